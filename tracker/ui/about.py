"""About: the version, the library open now, and the licence of every library the app brings
with it, read from the installed distributions' own metadata (never typed in here, where it
would go stale with the next upgrade)."""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from tracker import APP_NAME, __version__

DISTRIBUTION = "stria-tracker"
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_BUNDLED = re.compile(r"^Name:\s*(.+?)\s*\nLicense:\s*(.+?)\s*$", re.MULTILINE)
_WHEEL = re.compile(r"^License for .*?binary wheels?:\s*(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Licence:
    name: str
    version: str
    licence: str
    # Native libraries inside the distribution's wheel, as it lists them: (name, licence).
    bundled: tuple[tuple[str, str], ...] = ()
    wheel: str = ""  # the licence of the built wheel as a whole, where it says one


def licence_of(dist: metadata.Distribution) -> str:
    """The distribution's licence as it declares it: its SPDX expression, else a short License
    field, else its licence classifiers."""
    meta = dist.metadata
    expression = meta["License-Expression"]  # None when it has none
    if expression:
        return str(expression)
    field = str(meta["License"] or "").strip()
    if field and len(field) <= 80 and "\n" not in field:
        return field
    classifiers = [
        c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")
    ]
    return ", ".join(classifiers) or "not stated in its metadata"


def bundled_of(dist: metadata.Distribution) -> tuple[tuple[tuple[str, str], ...], str]:
    """The native libraries a wheel says it bundles, from its LICENSES_bundled file, and the
    licence it gives the wheel as a whole ("" when it gives none). Libraries it says are in
    another system's wheels only are left out."""
    for file in dist.files or ():
        if file.name.lower().startswith("licenses_bundled"):
            text = Path(str(dist.locate_file(file))).read_text(encoding="utf-8", errors="replace")
            here = (
                "Windows"
                if sys.platform == "win32"
                else "macOS"
                if sys.platform == "darwin"
                else ""
            )
            bundled = tuple(
                (name, lic)
                for name, lic in _BUNDLED.findall(text)
                if "wheels only" not in name or (here and here in name)
            )
            wheel = _WHEEL.search(text)
            return bundled, wheel[1] if wheel else ""
    return (), ""


def _requirements(dist: metadata.Distribution) -> list[str]:
    """The names of what ``dist`` needs to run (its extras, e.g. the test tools, left out)."""
    names = []
    for requirement in dist.requires or ():
        if re.search(r";.*\bextra\s*==", requirement):
            continue
        match = _REQUIREMENT.match(requirement)
        if match:
            names.append(match[1])
    return names


@cache
def bundled_licences() -> tuple[Licence, ...]:
    """Every distribution the app needs, with what they need in turn, by name; empty when
    the app runs from a checkout that was never installed (it has no metadata then)."""
    try:
        root = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return ()
    seen: dict[str, Licence] = {}
    queue = _requirements(root)
    while queue:
        name = queue.pop(0)
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency for another platform
        bundled, wheel = bundled_of(dist)
        seen[key] = Licence(dist.metadata["Name"], dist.version, licence_of(dist), bundled, wheel)
        queue += _requirements(dist)
    return tuple(sorted(seen.values(), key=lambda lic: lic.name.lower()))


def about_html(library: Path | None) -> str:
    own = metadata.distribution(DISTRIBUTION) if bundled_licences() else None
    lines = [
        f"<h2>{html.escape(APP_NAME)} {html.escape(__version__)}</h2>",
        "<p>Tracks a course of microneedling for stretch marks with dated photos and ratings. "
        "Everything stays on this computer; nothing is ever sent anywhere.</p>",
        "<p>This library: <b>"
        + (html.escape(str(library)) if library is not None else "none is open")
        + "</b></p>",
        f"<p>Qt {html.escape(qVersion())}, through PySide6 {html.escape(pyside_version)}.</p>",
    ]
    if own is not None:
        lines.append(f"<p>The app's own licence: {html.escape(licence_of(own))}.</p>")
    licences = bundled_licences()
    if not licences:
        lines.append(
            "<p>The libraries' licences are read from an installed copy's metadata; this copy "
            "runs from a folder that was never installed.</p>"
        )
        return "\n".join(lines)
    lines.append("<h3>Libraries it brings with it</h3><table cellspacing='0' cellpadding='3'>")
    lines.append("<tr><th align='left'>Library</th><th align='left'>Version</th>")
    lines.append("<th align='left'>Licence</th></tr>")
    for lic in licences:
        said = lic.licence + (f"; as built here: {lic.wheel}" if lic.wheel else "")
        lines.append(
            f"<tr><td>{html.escape(lic.name)}</td><td>{html.escape(lic.version)}</td>"
            f"<td>{html.escape(said)}</td></tr>"
        )
        for name, text in lic.bundled:
            lines.append(
                f"<tr><td>&nbsp;&nbsp;↳ {html.escape(name)}</td><td></td>"
                f"<td>{html.escape(text)}</td></tr>"
            )
    lines.append("</table>")
    lines.append(
        "<p>Each library's licence text is installed with it, in its folder of the Python "
        "environment (its <code>.dist-info</code> folder).</p>"
    )
    return "\n".join(lines)


class AboutDialog(QDialog):
    def __init__(self, library: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        self.resize(620, 560)
        layout = QVBoxLayout(self)
        self.text = QTextBrowser(self)
        self.text.setOpenLinks(False)
        self.text.setHtml(about_html(library))
        self.text.setAccessibleName(f"About {APP_NAME}")
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @classmethod
    def ask(cls, library: Path | None, parent: QWidget | None = None) -> None:
        dialog = cls(library, parent)
        dialog.exec()
        dialog.deleteLater()
