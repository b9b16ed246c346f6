"""What the window's exports do about consent (issue 20): ask what the export is for, and check
that the client's consent covers it (the audit entry is ``services.audit.record_export``).

In practitioner mode a refusal is the core's sentence (naming the purpose and the client) and
nothing is written: the practitioner records the consent first. In patient mode the one client
is the user: a missing consent is one question ("Use your own photos for …?"), and a yes records
it, identifiable, for all their photos, with no form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

from tracker.core.domain.consent import DEFAULT_PURPOSE, PURPOSE_LABELS, Action, Purpose
from tracker.core.errors import ConsentRefused, TrackerError
from tracker.core.services import audit, consent
from tracker.core.store.library import Library
from tracker.ui.settings import Mode

PURPOSES = list(Purpose)


def ask_purpose(parent: QWidget | None, what: str) -> Purpose | None:
    """The purpose chosen for an export (the care record first), or None when cancelled."""
    labels = [PURPOSE_LABELS[p][0].upper() + PURPOSE_LABELS[p][1:] for p in PURPOSES]
    label, ok = QInputDialog.getItem(
        parent,
        f"{what}: purpose",
        f"What is this {what.lower()} for? It is written only if the client's consent covers it.",
        labels,
        PURPOSES.index(DEFAULT_PURPOSE),
        False,
    )
    return PURPOSES[labels.index(label)] if ok and label in labels else None


def allowed(
    parent: QWidget | None,
    lib: Library,
    mode: Mode,
    purpose: Purpose,
    client_id: int,
    photo_ids: Iterable[int] = (),
    identifiable: bool = True,
) -> bool:
    """True when consent covers the export; else the refusal said (or, in patient mode, the
    one question asked and, on yes, the consent recorded) and False unless it now does."""
    photos = list(photo_ids)
    try:
        consent.require(
            lib, purpose, photo_ids=photos, client_ids=[client_id], identifiable=identifiable
        )
        return True
    except ConsentRefused as exc:
        if mode is not Mode.PATIENT or lib.read_only is not None:
            QMessageBox.warning(parent, "Not allowed without consent", str(exc))
            return False
    except TrackerError as exc:  # a login the server lets export nothing, a lost link
        QMessageBox.warning(parent, "Not written", str(exc))
        return False
    answer = QMessageBox.question(
        parent,
        "Your consent",
        f"Use your own photos and records for {PURPOSE_LABELS[purpose]}? Your answer is kept "
        "in the library, and you can withdraw it at any time (Library ▸ Consent of the client…).",
    )
    if answer != QMessageBox.StandardButton.Yes:
        return False
    consent.add(lib, client_id, purpose, identifiable=True)
    return True


def compare_gate(
    parent: QWidget, lib: Library, mode: Mode
) -> Callable[[list[int], Path], Callable[[], object] | None]:
    """The compare window's export check: the purpose asked, every client's consent for
    their photos checked (a comparison names nobody: de-identified consent covers it); what
    to call once the file is written (its audit entries), or None to write nothing."""

    def gate(photo_ids: list[int], out: Path) -> Callable[[], object] | None:
        purpose = ask_purpose(parent, "Comparison")
        if purpose is None:
            return None
        by_client = consent.clients_of_photos(lib, photo_ids)
        for client_id, theirs in by_client.items():
            if not allowed(parent, lib, mode, purpose, client_id, theirs, identifiable=False):
                return None

        def written() -> None:
            for client_id, theirs in by_client.items():
                audit.record_export(
                    lib, Action.EXPORTED, purpose, out, client_id=client_id, photo_ids=theirs
                )

        return written

    return gate
