"""A login the clinic's server lets export nothing (an assistant, issue 21) is refused before
the export's file is written, in the window as on the command line: ``audit.may_record`` asks
the server with the export's own audit entry, rolled back, so the trail is as it was; a
practitioner is let through. The window's gate (``consenting.allowed``) says the server's
sentence in a message, never a crash dialog."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from tests import postgres
from tracker.core.db import roles, server
from tracker.core.db.models import Audit
from tracker.core.db.server_errors import PermissionRefused
from tracker.core.domain.consent import Action, Purpose
from tracker.core.services import audit, clients, consent
from tracker.core.store.server_library import ServerLibrary
from tracker.ui.main import consenting
from tracker.ui.settings import Mode


@dataclass
class Clinic:
    url: str
    client_id: int
    logins: dict[str, str]  # role -> login

    def opened(self, role: str) -> ServerLibrary:
        return ServerLibrary.open_server(self.url.replace("postgres@", f"{self.logins[role]}@"))


@pytest.fixture
def clinic(pg_server: postgres.Server) -> Iterator[Clinic]:
    """A clinic library with one client, who consents to the care record, and an assistant's
    and a practitioner's logins (trusted on the server's socket: no password)."""
    logins = {
        role: f"{role}_{uuid.uuid4().hex[:8]}" for role in (roles.ASSISTANT, roles.PRACTITIONER)
    }
    try:
        with pg_server.clinic() as url:
            owner = server.make_pg_engine(url)
            try:
                for role, name in logins.items():
                    roles.add_user(owner, name, role, "not asked on this socket")
            finally:
                owner.dispose()
            lib = ServerLibrary.open_server(url)
            try:
                client_id = clients.add_client(lib, "Ana")
                consent.add(lib, client_id, Purpose.CARE, identifiable=True)
            finally:
                lib.close()
            yield Clinic(url, client_id, logins)
    finally:  # the server's roles, not the database's: dropped by hand once it is gone
        for name in logins.values():
            pg_server.admin(f"DROP ROLE IF EXISTS {name}")


def _entries(lib: ServerLibrary) -> int:
    with lib.session() as s:
        return int(s.scalar(select(func.count()).select_from(Audit)) or 0)


def test_the_server_is_asked_with_the_exports_own_entry_which_is_rolled_back(
    clinic: Clinic,
) -> None:
    lib = clinic.opened(roles.ASSISTANT)
    try:
        before = _entries(lib)
        for action in (Action.EXPORTED, Action.PRINTED):
            with pytest.raises(PermissionRefused, match="an assistant"):
                audit.may_record(lib, action, client_id=clinic.client_id)
        audit.may_record(lib, Action.VIEWED, client_id=clinic.client_id)  # taken from anyone
        assert _entries(lib) == before
    finally:
        lib.close()
    lib = clinic.opened(roles.PRACTITIONER)
    try:
        before = _entries(lib)
        audit.may_record(lib, Action.EXPORTED, client_id=clinic.client_id)
        consent.require(lib, Purpose.CARE, client_ids=[clinic.client_id])
        assert _entries(lib) == before  # asked, not entered: the export enters its own
    finally:
        lib.close()


def test_the_windows_export_gate_says_the_servers_refusal(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[tuple[str, str]] = []
    monkeypatch.setattr(
        consenting.QMessageBox, "warning", lambda _parent, title, text: said.append((title, text))
    )
    for role, allowed in ((roles.ASSISTANT, False), (roles.PRACTITIONER, True)):
        lib = clinic.opened(role)
        try:
            got = consenting.allowed(None, lib, Mode.PRACTITIONER, Purpose.CARE, clinic.client_id)
        finally:
            lib.close()
        assert got is allowed
    assert len(said) == 1, said
    title, text = said[0]
    assert title == "Not written"
    assert clinic.logins[roles.ASSISTANT] in text and "enters no export" in text, text
