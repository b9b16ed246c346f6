"""The repairs and Back up of a clinic library (issue 21), for ``care``: the work the command
line does on a server (``core.care.server_repair`` and ``server_backup``), run on the thread
pool, with the command line's sentences where they apply. (Its check is ``check_library``'s,
which is the server's on a server.) Loaded for a clinic library only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracker.core.care import server_repair
from tracker.core.care.server_backup import backup_server, encrypted_refusal
from tracker.core.domain.consent import Action
from tracker.core.errors import UsageError
from tracker.core.services import audit
from tracker.core.store.library import Library
from tracker.core.store.server_library import ServerLibrary
from tracker.ui.workers import Task


def _server(lib: Library) -> ServerLibrary:
    assert isinstance(lib, ServerLibrary)
    return lib


def repair(lib: Library, what: str, folder: Path | None, changed: list[str], task: Task) -> str:
    """Make the repair ``what`` ("relink" from ``folder``, replacing ``changed``;
    "quarantine"; "rebuild") and say what it did. A relink or a rebuild says how far it is
    through ``task`` and stops between two photos at its Cancel, saying so."""
    served = _server(lib)
    if what == "quarantine":  # one transaction, and quick: nothing to stop
        return server_repair.quarantine_summary(server_repair.quarantine_orphans(served))
    progress, cancel = task.report, lambda: task.cancelled
    if what == "relink":
        assert folder is not None
        result = server_repair.relink(served, folder, changed, progress=progress, cancel=cancel)
        return server_repair.relink_summary(result, bool(changed))
    result = server_repair.rebuild_cache(served, progress=progress, cancel=cancel)
    return server_repair.rebuild_summary(
        result, "Library ▸ Check the library", "Rebuild thumbnails"
    )


def may_back_up(lib: Library) -> None:
    """Raise now what the clinic library's backup would be refused with, before its file is
    chosen: an encrypted library's refusal (``server_backup.encrypted_refusal``), or the
    server's refusal of this login's backup entry (``audit.may_record``: an assistant's or
    the front desk's). It asks the server: run it on the thread pool."""
    if lib.keys is not None:
        raise UsageError(encrypted_refusal(lib.server))
    audit.may_record(lib, Action.BACKED_UP)


def backup(lib: Library, out: Path, *, force: bool, task: Task) -> dict[str, Any]:
    """``tracker backup OUT.zip`` of the clinic library, its audit entry made as the command
    line makes it; the task's Cancel stops it between two files, with nothing written."""

    def progress(done: int, total: int, what: str) -> None:
        if task.cancelled:
            raise UsageError("The backup was cancelled; nothing was written.")
        task.report(done, total, what)

    result = backup_server(_server(lib), out, force=force, progress=progress)
    audit.record(lib, Action.BACKED_UP, detail=Path(result["file"]).name)
    return result
