"""``python -m tracker``: the command line, or the GUI when no command is given."""

import sys

from tracker.cli import main

if __name__ == "__main__":
    sys.exit(main())
