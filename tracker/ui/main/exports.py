"""The client's ratings as CSV and progress report as PDF, written off the GUI thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Signal

from tracker.core.domain.consent import DEFAULT_PURPOSE, Action, Purpose
from tracker.core.errors import TrackerError
from tracker.core.exports import ratings_csv
from tracker.core.services import audit, consent
from tracker.core.store.library import Library
from tracker.rendering import report
from tracker.rendering.report import Charts
from tracker.ui.main import consenting
from tracker.ui.main.controller import WindowController
from tracker.ui.saving import ask_save_file
from tracker.ui.workers import progress_dialog, run_with_progress

CSV = ("CSV (*.csv)",)
PDF = ("PDF, A4 (*.pdf)", "PDF, Letter (*.pdf)")


class ExportController(WindowController):
    report_written = Signal(str)

    def _connect_signals(self) -> None:
        view = self.window.progress_view
        view.export_csv_requested.connect(self._on_export_csv_requested)
        view.export_report_requested.connect(self._on_export_report_requested)

    def _client(self) -> int | None:
        w = self.window
        return w.client_id if w.lib is not None else None

    def _client_name(self) -> str:
        """The client's name for a file name (the window's list holds it)."""
        client = self._client()
        return next((c.name for c in self.window.clients.rows() if c.id == client), "")

    def _on_export_csv_requested(self) -> None:
        w = self.window
        client = self._client()
        if w.lib is None or client is None:
            return
        purpose = consenting.ask_purpose(w.as_widget(), "Ratings export")
        if purpose is None or not self._allowed(purpose, []):  # ratings: no photos
            return
        title, words = "Export ratings and measures", self._words("ratings")
        chosen = ask_save_file(w.as_widget(), w.prefs, "csv", title, words, CSV)
        if chosen is None:
            return
        lib, name = w.lib, chosen[0]

        def written(r: dict[str, object]) -> None:
            audit.record_export(lib, Action.EXPORTED, purpose, name, client_id=client)
            w.statusBar().showMessage(
                f"Wrote {r['rows']} rows of ratings and measures to {r['file']}.", 8000
            )

        w.runner.start(
            lambda _t: ratings_csv.export(lib, name, client),
            finished=written,
            failed=w.show_error,
        )

    def _allowed(self, purpose: Purpose, photo_ids: list[int]) -> bool:
        """Whether the client's consent covers the export (see ``consenting.allowed``)."""
        w = self.window
        client = self._client()
        assert w.lib is not None and client is not None
        return consenting.allowed(w.as_widget(), w.lib, w.prefs.mode, purpose, client, photo_ids)

    def _words(self, what: str) -> list[str]:
        """A file's name: what it is, whose, and of which area when the client has one (the
        exports hold every area of the client's)."""
        areas = self.window.areas.rows()
        return [what, self._client_name(), *(a.name for a in areas if len(areas) == 1)]

    def _on_export_report_requested(self) -> None:
        w = self.window
        if self._client() is None:
            return
        words = self._words("progress-report")
        chosen = ask_save_file(w.as_widget(), w.prefs, "report", "Export report", words, PDF)
        purpose = consenting.ask_purpose(w.as_widget(), "Report") if chosen else None
        if chosen is not None and purpose is not None:
            self.report(chosen[0], "letter" if "Letter" in chosen[1] else "a4", purpose)

    def report(self, out: Path, page: str = "a4", purpose: Purpose = DEFAULT_PURPOSE) -> None:
        """Write the client's report if their consent covers ``purpose``; charts are drawn
        here (they need the GUI thread), one a turn of the event loop so that the window
        keeps answering (about 20 ms each, and a report has one per instrument and area),
        the rest in a worker."""
        w = self.window
        client = self._client()
        assert w.lib is not None and client is not None
        lib = w.lib
        if not self._allowed(purpose, consent.photos_of(lib, client)):
            return
        try:
            steps = report.chart_steps(lib, report.area_ids(lib, client))
        except TrackerError as exc:
            w.show_error(str(exc))
            return
        charts: Charts = {}
        drawing = progress_dialog(w.as_widget(), "Report", "Drawing the charts…", 0)

        def step() -> None:
            if drawing.wasCanceled() or w.lib is not lib:  # cancelled, or another library
                drawing.close()
                return
            try:
                key, image = next(steps)
            except StopIteration:
                drawing.close()
                self._write_report(lib, client, out, page, purpose, charts)
                return
            except TrackerError as exc:
                drawing.close()
                w.show_error(str(exc))
                return
            charts[key] = image
            QTimer.singleShot(0, step)

        QTimer.singleShot(0, step)

    def _write_report(
        self,
        lib: Library,
        client: int,
        out: Path,
        page: str,
        purpose: Purpose,
        charts: Charts,
    ) -> None:
        w = self.window

        def done(result: dict[str, object]) -> None:
            audit.record_export(lib, Action.PRINTED, purpose, out, client_id=client)
            w.statusBar().showMessage(f"Wrote {result['file']}.", 8000)
            self.report_written.emit(str(result["file"]))

        run_with_progress(
            w.as_widget(),
            w.runner,
            "Writing the report…",
            lambda task: report.export_report(
                lib, out, client_id=client, page=page, charts=charts, progress_cb=task.report
            ),
            done,
            w.show_error,
            cancellable=False,
        )
