"""``tracker card OUT.pdf [--paper a4|letter]``: the calibration card to print (docs/CLI.md)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from PySide6.QtGui import QGuiApplication

from tracker.cli.output import emit
from tracker.cli.parser import EXIT_OK
from tracker.rendering.card_pdf import write_card


def cmd_card(args: argparse.Namespace, _root: Path) -> int:
    """The PDF needs Qt's painter and fonts: an offscreen application, no window, no library."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QGuiApplication.instance() or QGuiApplication(["tracker"])
    result = write_card(args.out, args.paper)
    del app
    emit(
        args,
        result,
        f"Wrote {result['file']}. Print it at 100 % (actual size, no “fit to page”) and check "
        "that its 100 mm line measures 100 mm before you cut the card out.",
    )
    return EXIT_OK
