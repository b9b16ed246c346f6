"""``tracker check`` of a library in a PostgreSQL database (clinic mode, issue 21).

What ``check.check_library`` looks for in a folder, asked of the database instead: the audit
trail's chain; every photo's original and every consent's signed form stored, whole and the
bytes that were hashed (read, decrypted when encrypted, and hashed: ``BlobStore.verify``); a
thumbnail or preview that is damaged (it is made again, but it should not be); and blobs no
row names (left by work done outside the app). The database's own integrity is the server's
(its checksums and ``amcheck``), and the schema was checked when the library was opened
(``server_schema``). Nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from tracker.core.care.check_report import CheckReport, Problem
from tracker.core.db.models import Consent, Photo
from tracker.core.services import audit
from tracker.core.store.server_library import ServerLibrary


def check_server(
    lib: ServerLibrary,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> CheckReport:
    """The server library's check (see the module); ``progress`` and ``cancel`` as
    ``check_library``'s, after each photo."""
    report = CheckReport()
    report.problems.extend(Problem("audit", sentence) for sentence in audit.verify(lib))
    store = lib.blobs
    with lib.session() as s:
        photos = s.execute(select(Photo.id, Photo.sha256).order_by(Photo.id)).all()
        forms = [
            (consent_id, str(sha))
            for consent_id, sha in s.execute(
                select(Consent.id, Consent.form_sha256).where(Consent.form_sha256.is_not(None))
            )
        ]
        for n, (photo_id, sha256) in enumerate(photos, start=1):
            if cancel and cancel():
                report.cancelled = True
                return report
            wrong = store.verify(s, "original", sha256)
            if wrong is not None:
                kind = (
                    "missing_original"
                    if not store.has(s, "original", sha256)
                    else "changed_original"
                )
                report.problems.append(Problem(kind, f"Photo {photo_id}: {wrong}", sha256))
            report.photos_checked += 1
            if progress:
                progress(n, len(photos), "")
        for consent_id, form_sha in forms:
            wrong = store.verify(s, "original", form_sha)
            if wrong is not None:
                kind = "missing_form" if not store.has(s, "original", form_sha) else "changed_form"
                report.problems.append(
                    Problem(kind, f"Consent {consent_id}'s signed form: {wrong}", form_sha)
                )
        named = {sha for _id, sha in photos} | {sha for _id, sha in forms}
        for kind, sha256 in store.stored(s):
            if sha256 not in named:
                what = "original" if kind == "original" else "thumbnail or preview"
                report.problems.append(
                    Problem(
                        "orphan_file",
                        f"A stored {what} ({sha256[:12]}) belongs to no photo or consent in "
                        "the library.",
                        sha256,
                    )
                )
            elif kind != "original" and (wrong := store.verify(s, kind, sha256)) is not None:
                report.problems.append(Problem("cache", wrong, sha256))
    return report
