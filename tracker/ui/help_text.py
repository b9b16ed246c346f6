"""The help's words: one topic a Markdown file in ``tracker/ui/help/`` (``NN-name.md``, shown in
the order of NN, titled by its first ``# `` line), and the glossary, whose entries are also the
tooltips of the scales, stages and headings that use those words: one source for both.

A topic may hold a line ``<!-- generated: NAME -->``; the help window puts there what it makes
at the time (the keys of the actual commands, the library open now)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from tracker.core.db.models import Stage
from tracker.core.domain.scales import Scale

GLOSSARY = "glossary"
GENERATED = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)
_NAME = re.compile(r"^(\d+)-([a-z0-9-]+)\.md$")

# The glossary entry that explains each scale and stage (by its heading).
SCALE_TERMS = {
    "posas2-patient": "POSAS",
    "posas2-observer": "POSAS",
    "gais": "GAIS",
    "ctd": "CTD",
    "improvement-vas": "VAS",
}
STAGE_TERMS = {Stage.RUBRA: "Rubra", Stage.ALBA: "Alba"}


@dataclass(frozen=True)
class Topic:
    key: str  # the file's name without its number: "getting-started"
    order: int
    title: str
    markdown: str  # the file without its title line


@cache
def topics() -> tuple[Topic, ...]:
    """Every topic, in the order of the numbers of their files."""
    found = []
    for entry in resources.files("tracker.ui").joinpath("help").iterdir():
        match = _NAME.match(entry.name)
        if match is None:
            continue
        text = entry.read_text(encoding="utf-8")
        first, _, rest = text.partition("\n")
        if not first.startswith("# "):
            raise ValueError(f"The help topic {entry.name} does not start with a '# ' title.")
        found.append(Topic(match[2], int(match[1]), first[2:].strip(), rest.strip() + "\n"))
    return tuple(sorted(found, key=lambda t: (t.order, t.key)))


def topic(key: str) -> Topic:
    for t in topics():
        if t.key == key:
            return t
    raise KeyError(
        f"There is no help topic {key!r}; there are {', '.join(t.key for t in topics())}."
    )


def plain(markdown: str) -> str:
    """Markdown's emphasis and code marks taken out, for a tooltip."""
    return re.sub(r"(\*\*|\*|`)", "", markdown)


@cache
def glossary() -> dict[str, str]:
    """The glossary's entries, heading → its first paragraph in plain words."""
    entries: dict[str, str] = {}
    for section in re.split(r"^## ", topic(GLOSSARY).markdown, flags=re.MULTILINE)[1:]:
        heading, _, body = section.partition("\n")
        paragraph = body.strip().split("\n\n")[0]
        entries[heading.strip()] = plain(" ".join(paragraph.split()))
    return entries


def term(heading: str) -> str:
    """The glossary's words for ``heading`` ("POSAS", "Rubra")."""
    return glossary()[heading]


def scale_tip(scale: Scale) -> str:
    """A scale's tooltip: what it rates, then what the glossary says of its instrument."""
    heading = SCALE_TERMS.get(scale.key)
    return f"{scale.description}\n\n{term(heading)}" if heading else scale.description


def stage_tip(stage: Stage) -> str:
    heading = STAGE_TERMS.get(stage)
    if heading is None:
        return "Neither clearly red nor clearly white yet; it can be changed in Area details."
    return term(heading)
