"""Start-up time: the main window opens on a library without loading OpenCV or numpy; they come
with the first alignment, measure or card (issue 17: "Loaded on first use")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_the_main_window_opens_without_opencv_or_numpy(tmp_path: Path) -> None:
    code = (
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from pathlib import Path\n"
        "from PySide6.QtCore import QSettings\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from tracker.core.store.library import Library\n"
        "from tracker.ui.main.window import MainWindow\n"
        "from tracker.ui.settings import Preferences\n"
        "from tracker.ui.workers import TaskRunner\n"
        "app = QApplication([])\n"
        f"lib = Library.open(Path({str(tmp_path / 'lib')!r}), create=True)\n"
        f"ini = {str(tmp_path / 'prefs.ini')!r}\n"
        "prefs = Preferences(QSettings(ini, QSettings.Format.IniFormat))\n"
        "window = MainWindow(prefs, TaskRunner())\n"
        "window.set_library(lib)\n"
        "window.show()\n"
        "app.processEvents()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('cv2', 'numpy')))\n"
        "window.close()\n"
        "lib.close()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
