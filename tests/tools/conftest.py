"""Fixtures of the tools' tests: the throwaway PostgreSQL server (tests/postgres.py) for the
session, a database per test, as tests/core/db/conftest.py has them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import postgres


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.Server]:
    with postgres.running_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: postgres.Server) -> Iterator[str]:
    """The URL of an empty PostgreSQL database, dropped after the test."""
    with pg_server.database() as url:
        yield url
