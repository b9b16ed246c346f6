"""No dead code in the app: vulture, at its default confidence, finds nothing unused in tracker/.

What only Qt, SQLAlchemy, Alembic or the tests call is listed, each with its reason, in
tests/vulture_whitelist.py; anything else vulture reports is to be deleted or whitelisted.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_vulture_finds_no_unused_code() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vulture", "tracker", "tests/vulture_whitelist.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = result.stdout + result.stderr
    assert found == "", f"vulture found unused code (delete it or whitelist it):\n{found}"
    assert result.returncode == 0
