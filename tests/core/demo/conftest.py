"""One sample library for the demo's tests: making it takes most of their time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tracker.core.demo.sample import create_demo

TODAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="package")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A sample library made once for the package's tests (what ``create_demo`` says of it,
    its folder in "library"); they read it, never change it."""
    return create_demo(tmp_path_factory.mktemp("demo") / "sample", today=TODAY)
