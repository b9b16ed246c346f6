"""Start the GUI: ``python main.py [--library DIR]``."""

import argparse
import sys
from pathlib import Path

from tracker.app import run_gui

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="main.py", description="Open the tracker's window.")
    parser.add_argument("--library", type=Path, metavar="DIR", help="the library folder to open")
    args = parser.parse_args()
    sys.exit(run_gui(args.library))
