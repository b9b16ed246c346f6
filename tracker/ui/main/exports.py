"""The client's ratings as CSV and progress report as PDF, written off the GUI thread."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog

from tracker.core.errors import TrackerError
from tracker.core.exports import ratings_csv
from tracker.core.files import dated_name
from tracker.rendering import report
from tracker.ui.main.controller import WindowController
from tracker.ui.workers import run_with_progress


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
        start = w.prefs.last_import_folder or Path.home()
        name, _ = QFileDialog.getSaveFileName(
            w.as_widget(),
            "Export ratings and measures",
            str(dated_name(start, ["ratings", self._client_name()], ".csv", dt.date.today())),
            "CSV (*.csv)",
        )
        if not name:
            return
        lib = w.lib
        w.runner.start(
            lambda _t: ratings_csv.export(lib, Path(name), client),
            finished=lambda r: w.statusBar().showMessage(
                f"Wrote {r['rows']} rows of ratings and measures to {r['file']}.", 8000
            ),
            failed=w.show_error,
        )

    def _on_export_report_requested(self) -> None:
        if self._client() is None:
            return
        start = self.window.prefs.last_import_folder or Path.home()
        name, chosen = QFileDialog.getSaveFileName(
            self.window.as_widget(),
            "Export report",
            str(
                dated_name(start, ["progress-report", self._client_name()], ".pdf", dt.date.today())
            ),
            "PDF, A4 (*.pdf);;PDF, Letter (*.pdf)",
        )
        if name:
            self.report(Path(name), "letter" if "Letter" in chosen else "a4")

    def report(self, out: Path, page: str = "a4") -> None:
        """Write the client's report; charts are drawn here (they need the GUI thread), the
        rest in a worker."""
        w = self.window
        client = self._client()
        assert w.lib is not None and client is not None
        lib = w.lib
        try:
            charts = report.chart_images(lib, report.area_ids(lib, client))
        except TrackerError as exc:
            w.show_error(str(exc))
            return

        def done(result: dict[str, object]) -> None:
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
