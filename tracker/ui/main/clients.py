"""Adding and editing clients and their treated areas.

An edit names the version of the client or area the dialog opened with (issue 21): when
another workstation changed it meanwhile, the edit is refused with its sentence and the
dialog opens again with the fresh values, to be changed from there or cancelled.
"""

from __future__ import annotations

from collections.abc import Callable

from tracker.core.errors import NotFoundError
from tracker.core.queries import browse
from tracker.core.queries.editors import area_fields
from tracker.core.queries.rows import AreaFields, ClientFields
from tracker.core.store.library import Library
from tracker.ui import commands as cmd
from tracker.ui.dialogs import AreaAnswer, AreaDialog, ClientAnswer, ClientDialog
from tracker.ui.history import Command
from tracker.ui.main.controller import WindowController
from tracker.ui.main.measuring import current_control
from tracker.ui.measure_commands import AreaSteps, SetControl
from tracker.ui.settings import Mode

# AreaAnswer's fields, by the name the core edits them under.
_AREA_FIELDS = {
    "name": "name",
    "body_site": "body_site",
    "stage": "stage",
    "scale": "default_scale",
}


def _version_now(
    read: Callable[[Library, int], ClientFields | AreaFields], lib: Library, ident: int
) -> int:
    """The version of the client or area ``ident`` read again after a refused edit (0: it
    was removed meanwhile): when it moved on, the edit was refused for it."""
    try:
        return read(lib, ident).version
    except NotFoundError:
        return 0


class ClientController(WindowController):
    def _connect_signals(self) -> None:
        w = self.window
        w.menus.find_client.triggered.connect(self._on_find_client)
        w.menus.add_client.triggered.connect(self._on_add_client)
        w.menus.edit_client.triggered.connect(self._on_edit_client)
        w.menus.add_area.triggered.connect(self._on_add_area)
        w.menus.edit_area.triggered.connect(self._on_edit_area)
        w.sidebar.add_client_requested.connect(self._on_add_client)
        w.sidebar.edit_client_requested.connect(self._on_edit_client)
        w.sidebar.add_area_requested.connect(self._on_add_area)
        w.sidebar.edit_area_requested.connect(self._on_edit_area)

    def ask_for_area(self, title: str, ok_text: str, intro: str = "") -> bool:
        """Ask for a new area of the current client and add it; True when one was added."""
        answer = AreaDialog.ask(self.window.as_widget(), title=title, ok_text=ok_text, intro=intro)
        return answer is not None and self._add_area(answer)

    def _add_area(self, answer: AreaAnswer) -> bool:
        w = self.window
        assert w.lib is not None and w.client_id is not None
        command = cmd.AddArea(
            w.lib, w.client_id, answer.name, answer.body_site, answer.stage, answer.scale
        )
        if not w.run(command):
            return False
        w.area_id = command.area_id
        w.refresh()
        return True

    def _on_find_client(self) -> None:
        w = self.window
        if w.prefs.mode is not Mode.PRACTITIONER:
            w.show_error(
                "Finding clients is for practitioner mode; switch it on in File ▸ Preferences."
            )
            return
        w.sidebar.focus_search()

    def _on_add_client(self) -> None:
        w = self.window
        if w.lib is None:
            return
        answer = ClientDialog.ask(w.as_widget(), title="Add client", ok_text="Add client")
        if not answer:
            return
        details = {
            "date_of_birth": answer.date_of_birth,
            "fitzpatrick": answer.fitzpatrick,
            "notes": answer.notes,
        }
        # One step: the client with its details.
        command = cmd.AddClient(w.lib, answer.name, details)
        if not w.run(command):
            return
        w.client_id, w.area_id, w.visit_id = command.client_id, None, None
        w.sidebar.search.clear()
        w.refresh()

    def _on_edit_client(self) -> None:
        w = self.window
        while w.lib is not None and w.client_id is not None:
            lib, client_id = w.lib, w.client_id
            fields = browse.client_fields(lib, client_id)
            current = ClientAnswer(
                fields.name, fields.date_of_birth, fields.fitzpatrick, fields.notes
            )
            answer = ClientDialog.ask(
                w.as_widget(), title="Client details", ok_text="Save", current=current
            )
            if answer is None:
                return
            changed = {k: v for k, v in vars(answer).items() if getattr(current, k) != v}
            if not changed or w.run(cmd.EditClient(lib, client_id, changed, fields.version)):
                return
            if _version_now(browse.client_fields, lib, client_id) in (0, fields.version):
                return  # refused for another reason (a taken name), or gone: as its sentence said

    def _on_add_area(self) -> None:
        if self.window.lib is not None and self.window.client_id is not None:
            self.ask_for_area("New area", "Add area")

    def _on_edit_area(self) -> None:
        w = self.window
        while w.lib is not None and w.area_id is not None:
            lib, area_id = w.lib, w.area_id
            fields = area_fields(lib, area_id)
            control = current_control(lib, area_id)
            current = AreaAnswer(
                fields.name, fields.body_site, fields.stage, fields.default_scale, control
            )
            others = [(a.id, a.name) for a in w.areas.rows() if a.id != area_id]
            answer = AreaDialog.ask(
                w.as_widget(),
                title="Area details",
                ok_text="Save",
                current=current,
                controls=others,
            )
            if answer is None:
                return
            changed = {
                _AREA_FIELDS[k]: v
                for k, v in vars(answer).items()
                if k != "control" and getattr(current, k) != v
            }
            steps: list[Command] = (
                [cmd.EditArea(lib, area_id, changed, fields.version)] if changed else []
            )
            if answer.control != control:  # alone, it names the version shown
                seen = None if steps else fields.version
                steps.append(SetControl(lib, area_id, answer.control, seen))
            if not steps or w.run(
                steps[0] if len(steps) == 1 else AreaSteps(lib, "edit area", steps)
            ):
                return
            if _version_now(area_fields, lib, area_id) in (0, fields.version):
                return  # refused for another reason, or gone: as its sentence said
