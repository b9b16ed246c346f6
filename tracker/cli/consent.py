"""``tracker consent add|withdraw|list|form`` and ``tracker audit`` (issue 20). The exports' consent
check and audit entry are in ``care.cmd_export``."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from tracker.cli import resolve, unlock
from tracker.cli.output import emit, table
from tracker.cli.parser import EXIT_OK, EXIT_PROBLEMS
from tracker.core.domain.consent import FORM_LABELS, PURPOSE_LABELS
from tracker.core.services import audit, consent, consent_forms


def cmd_consent(args: argparse.Namespace, root: Path) -> int:
    if args.consent_command == "list":
        with unlock.open_library(args, root, allow_read_only=True) as lib:
            client_id = resolve.client(lib, args.client) if args.client is not None else None
            rows = consent.consents(lib, client_id)
        today = dt.date.today()
        shown = [
            {
                "id": r.id,
                "client": r.client,
                "status": r.status(today),
                "allows": r.words,
                "given": r.recorded_on.isoformat(),
                "expires": r.expires_on.isoformat() if r.expires_on else "",
                "by": r.recorded_by,
                "form": FORM_LABELS[r.form] if r.form is not None else "",
            }
            for r in rows
        ]
        columns = ["id", "client", "status", "allows", "given", "expires", "by", "form"]
        text = table(shown, columns) if rows else "No consent is recorded."
        emit(args, [r.as_dict() | {"status": r.status(today)} for r in rows], text)
        return EXIT_OK
    if args.consent_command == "form" and args.out is not None:
        return _form_out(args, root)
    form = None
    path = args.form if args.consent_command == "add" else getattr(args, "attach", None)
    if path is not None:
        form = consent_forms.read_form_file(path)[0], path.name  # refused before unlocking
    with unlock.open_library(args, root) as lib:
        if args.consent_command == "form":
            assert form is not None
            stored = consent_forms.attach(lib, args.consent, form[0], name=form[1])
            text = (
                f"Attached {path} to consent {args.consent} as its signed form "
                f"({FORM_LABELS[stored.kind]}, {stored.size:,} bytes)."
            )
            emit(args, _form_json(stored), text)
            return EXIT_OK
        if args.consent_command == "withdraw":
            row = consent.withdraw(lib, args.consent, by=args.by, on=args.date)
            text = (
                f"Withdrew consent {row.id} of {row.client} ({row.words}) from "
                f"{row.withdrawn_on}: exports for {PURPOSE_LABELS[row.purpose]} are refused now."
            )
            emit(args, row.as_dict(), text)
            return EXIT_OK
        client_id = resolve.client(lib, args.client)
        ident = consent.add(
            lib,
            client_id,
            args.purpose,
            identifiable=not args.de_identified,
            photo_ids=args.photos,
            recorded_by=args.by,
            recorded_on=args.date,
            expires_on=args.expires,
            form=form,
        )
        (row,) = consent.consents(lib, consent_ids=[ident])
    kept = "" if row.form is None else f", with its signed form ({FORM_LABELS[row.form]})"
    emit(args, row.as_dict(), f"Recorded consent {row.id} of {row.client}: {row.words}{kept}.")
    return EXIT_OK


def _form_json(form: consent_forms.StoredForm) -> dict[str, object]:
    return {
        "consent_id": form.consent_id,
        "kind": form.kind.value,
        "size": form.size,
        "sha256": form.sha256,
    }


def _form_out(args: argparse.Namespace, root: Path) -> int:
    """``consent form ID --out FILE``: the form's bytes as attached, to a new file."""
    out: Path = args.out
    with unlock.open_library(args, root, allow_read_only=True) as lib:
        form = consent_forms.export(lib, args.consent, out)
    text = f"Wrote the signed form of consent {form.consent_id} to {out} ({form.size:,} bytes)."
    emit(args, _form_json(form) | {"file": str(out)}, text)
    return EXIT_OK


def cmd_audit(args: argparse.Namespace, root: Path) -> int:
    """The trail, oldest first, then whether its chain holds (exit 1 when it does not)."""
    with unlock.open_library(args, root, allow_read_only=True) as lib:
        client_id = resolve.client(lib, args.client) if args.client is not None else None
        rows = audit.entries(lib, client_id)
        problems = audit.verify(lib)
    shown = [
        {
            "id": e.id,
            "at (UTC)": e.at.isoformat(sep=" ", timespec="seconds"),
            "who": e.actor,
            "did": e.words,
            "client": "" if e.client_id is None else e.client_id,
            "what": e.subject,
            "detail": e.detail,
        }
        for e in rows
    ]
    verdict = (
        "The audit trail's chain holds."
        if not problems
        else "\n".join([f"The audit trail's chain is broken ({len(problems)}):", *problems])
    )
    body = table(shown, list(shown[0])) if shown else "The audit trail is empty."
    value = {"entries": [e.as_dict() for e in rows], "problems": problems}
    emit(args, value, f"{body}\n{verdict}")
    return EXIT_OK if not problems else EXIT_PROBLEMS
