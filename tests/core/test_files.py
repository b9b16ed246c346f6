"""The small file helpers: names offered for what the app writes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tracker.core.files import dated_name

DAY = dt.date(2026, 12, 1)


def test_a_dated_name_never_names_a_file_already_there(tmp_path: Path) -> None:
    first = dated_name(tmp_path, ["stria-backup"], ".zip", DAY)
    assert first == tmp_path / "stria-backup-2026-12-01.zip"
    first.write_bytes(b"one")
    second = dated_name(tmp_path, ["stria-backup"], ".zip", DAY)
    assert second.name == "stria-backup-2026-12-01-2.zip"
    second.write_bytes(b"two")
    assert (
        dated_name(tmp_path, ["stria-backup"], ".zip", DAY).name == "stria-backup-2026-12-01-3.zip"
    )
    assert dated_name(tmp_path, ["stria-backup"], ".zip", DAY + dt.timedelta(1)).name == (
        "stria-backup-2026-12-02.zip"
    )


def test_a_dated_name_carries_whose_it_is_and_cannot_leave_its_folder(tmp_path: Path) -> None:
    name = dated_name(tmp_path, ["report", "Ana/Ruiz: ..", "Belly\n"], ".pdf", DAY)
    assert name.parent == tmp_path
    assert name.name == "report-Ana-Ruiz-Belly-2026-12-01.pdf"
    assert dated_name(tmp_path, ["report", "..", ""], ".pdf", DAY).name == "report-2026-12-01.pdf"
    long = dated_name(tmp_path, ["report", "Ñ" * 300], ".pdf", DAY).name
    assert long == f"report-{'Ñ' * 60}-2026-12-01.pdf"
