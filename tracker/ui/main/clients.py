"""Adding and editing clients and their treated areas."""

from __future__ import annotations

from tracker.core.queries import browse
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
        if w.lib is None or w.client_id is None:
            return
        current = ClientAnswer(**vars(browse.client_fields(w.lib, w.client_id)))
        answer = ClientDialog.ask(
            w.as_widget(), title="Client details", ok_text="Save", current=current
        )
        if answer is None:
            return
        changed = {k: v for k, v in vars(answer).items() if getattr(current, k) != v}
        if changed:
            w.run(cmd.EditClient(w.lib, w.client_id, changed))

    def _on_add_area(self) -> None:
        if self.window.lib is not None and self.window.client_id is not None:
            self.ask_for_area("New area", "Add area")

    def _on_edit_area(self) -> None:
        w = self.window
        if w.lib is None or w.area_id is None:
            return
        row = next(a for a in w.areas.rows() if a.id == w.area_id)
        control = current_control(w.lib, w.area_id)
        current = AreaAnswer(row.name, row.body_site, row.stage, row.default_scale, control)
        others = [(a.id, a.name) for a in w.areas.rows() if a.id != w.area_id]
        answer = AreaDialog.ask(
            w.as_widget(), title="Area details", ok_text="Save", current=current, controls=others
        )
        if answer is None:
            return
        changed = {
            _AREA_FIELDS[k]: v
            for k, v in vars(answer).items()
            if k != "control" and getattr(current, k) != v
        }
        steps: list[Command] = [cmd.EditArea(w.lib, w.area_id, changed)] if changed else []
        if answer.control != control:
            steps.append(SetControl(w.lib, w.area_id, answer.control))
        if len(steps) == 1:
            w.run(steps[0])
        elif steps:
            w.run(AreaSteps(w.lib, "edit area", steps))
