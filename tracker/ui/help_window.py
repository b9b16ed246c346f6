"""The help window (F1): the topics of ``help_text`` in a list, the chosen one shown, a search
over all of them. The keys topic is made from the actual commands each time the window is
made, so it lists the keys that work, never the ones someone once wrote down."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from tracker import APP_NAME
from tracker.ui import help_text
from tracker.ui.help_text import GENERATED, Topic

# A window's name and its commands, each with the name it is listed by.
KeySection = tuple[str, Sequence[tuple[str, QAction]]]
TopicRole = Qt.ItemDataRole.UserRole
# The main window's action that opens "How to take photos that compare well", by object name.
PHOTO_HELP_ACTION = "help-photos"


def command_name(action: QAction) -> str:
    """An action's text as a person reads it: no mnemonic ampersands, no trailing dots."""
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…. ")


def on_keyboards(key: QKeySequence) -> bool:
    """Whether a key is on ordinary keyboards: a standard key's bindings also name F13–F35 and
    media keys ("Undo", "Help"), which few keyboards have and nobody looks for."""
    # The first chord's key; PySide6's type stubs leave out QKeySequence's [] operator.
    first = getattr(key, "__getitem__")(0) if key.count() else None  # noqa: B009
    code = first.key() if first is not None else Qt.Key.Key_unknown
    extra = Qt.Key.Key_F13.value <= code.value <= Qt.Key.Key_F35.value
    media = code.value >= Qt.Key.Key_Back.value or code == Qt.Key.Key_Help
    return not key.isEmpty() and not extra and not media


def keys_markdown(sections: Sequence[KeySection]) -> str:
    """A table of every command with keys, a section for each window."""
    out = []
    for title, actions in sections:
        rows: dict[str, str] = {}
        for name, action in actions:
            keys = [
                k.toString(QKeySequence.SequenceFormat.NativeText)
                for k in action.shortcuts()
                if on_keyboards(k)
            ]
            if keys and name and name not in rows:
                rows[name] = " or ".join(f"**{k}**" for k in dict.fromkeys(keys))
        if rows:
            out.append(f"## {title}\n\n| Keys | Command |\n|---|---|")
            out += [f"| {keys} | {name} |" for name, keys in rows.items()]
            out.append("")
    return "\n".join(out)


def library_markdown(library: Path | None) -> str:
    if library is None:
        return "No library is open now."
    return f"The library open now is **{library}**."


class HelpWindow(QMainWindow):
    """Topics on the left, the chosen one on the right; typing in the search keeps only the
    topics that hold every word typed."""

    def __init__(
        self,
        keys: Sequence[KeySection],
        library: Path | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Help — {APP_NAME}")
        self.setWindowFlag(Qt.WindowType.Window)
        self.resize(920, 620)
        self.generated = {"keys": keys_markdown(keys), "library": library_markdown(library)}
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search the help")
        self.search.setAccessibleName("Search the help")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setAccessibleName("Help topics")
        self.list.setSpacing(2)
        for t in help_text.topics():
            item = QListWidgetItem(t.title, self.list)
            item.setData(TopicRole, t.key)
        self.none_found = QLabel("No topic holds those words.", self)
        self.none_found.setWordWrap(True)
        self.none_found.hide()
        self.page = QTextBrowser(self)
        self.page.setAccessibleName("Help topic")
        self.page.setOpenLinks(False)  # topic: links are ours; nothing is ever fetched
        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.search)
        column.addWidget(self.list, 1)
        column.addWidget(self.none_found)
        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(self.page)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([250, 670])
        central = QWidget(self)
        row = QHBoxLayout(central)
        row.addWidget(splitter)
        self.setCentralWidget(central)
        self._connect_signals()
        self.list.setCurrentRow(0)

    def _connect_signals(self) -> None:
        self.list.currentItemChanged.connect(self._on_list_current_item_changed)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.page.anchorClicked.connect(self._on_page_anchor_clicked)

    def set_library(self, library: Path | None) -> None:
        self.generated["library"] = library_markdown(library)
        self._on_list_current_item_changed(self.list.currentItem(), None)

    def markdown(self, t: Topic) -> str:
        """The topic as shown: its title, then its text with what is made now put in."""
        body = GENERATED.sub(lambda m: self.generated.get(m[1], ""), t.markdown)
        return f"# {t.title}\n\n{body}"

    def show_topic(self, key: str) -> None:
        """Show the topic ``key`` ("photos", "glossary"…), clearing a search that hides it."""
        help_text.topic(key)  # an unknown key is a programming error: say which exist
        item = self._item(key)
        if item is not None:
            if item.isHidden():
                self.search.clear()
            self.list.setCurrentItem(item)

    def _item(self, key: str) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(TopicRole) == key:
                return item
        return None

    def _on_list_current_item_changed(self, item: QListWidgetItem | None, _old: object) -> None:
        if item is None:
            return
        self.page.setMarkdown(self.markdown(help_text.topic(str(item.data(TopicRole)))))
        self._mark_search()

    def _on_search_text_changed(self, text: str) -> None:
        words = text.casefold().split()
        first = None
        for i in range(self.list.count()):
            item = self.list.item(i)
            t = help_text.topic(str(item.data(TopicRole)))
            haystack = f"{t.title}\n{self.markdown(t)}".casefold()
            hidden = not all(w in haystack for w in words)
            item.setHidden(hidden)
            if not hidden and first is None:
                first = item
        self.none_found.setVisible(first is None)
        current = self.list.currentItem()
        if first is not None and (current is None or current.isHidden()):
            self.list.setCurrentItem(first)
        self._mark_search()

    def _mark_search(self) -> None:
        """Move to the first place the search's first word is found in the topic shown."""
        words = self.search.text().split()
        if words:
            self.page.moveCursor(self.page.textCursor().MoveOperation.Start)
            self.page.find(words[0])

    def _on_page_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() == "topic":
            self.show_topic(url.path())
