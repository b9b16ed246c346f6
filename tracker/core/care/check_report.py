"""What a check found (``check.check_library`` of a folder, ``server_check.check_server`` of a
database): apart from both, so that the folder's check hands a server library to the server's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Problem:
    kind: str
    detail: str
    sha256: str = ""  # the photo's, for a missing, changed or linked original


@dataclass
class CheckReport:
    problems: list[Problem] = field(default_factory=list)
    photos_checked: int = 0
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "photos_checked": self.photos_checked,
            "problems": [vars(p) for p in self.problems],
        }
