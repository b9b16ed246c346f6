"""Text that fits the width it is given, at any window size and text scale: list rows whose
text wraps to the list's width (``wrap_list``: no word cut, no sideways scrolling), and a
one-line label that shortens its text with "…" and shows it whole on hover (``ElidedLabel``:
a heading whose height never changes, so the widgets under it stay where they are)."""

from __future__ import annotations

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QIcon,
    QPainter,
    QPaintEvent,
    QPalette,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLayout,
    QLayoutItem,
    QListView,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from tracker.ui.models import StripSizeRole

PAD = 6  # inside a row, around the thumbnails and the text
SIDE_TEXT = 200  # the least width of text beside the thumbnails; narrower, the text goes under
Index = QModelIndex | QPersistentModelIndex


def _layout(text: str, font: QFont, width: int) -> QTextLayout:
    """``text`` laid out in lines of ``width``: broken between words, and inside a word only
    when the word alone is wider than the line (a long name), so nothing is cut off."""
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    layout.beginLayout()
    y = 0.0
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(max(1, width))
        line.setPosition(QPointF(0, y))
        y += line.height()
    layout.endLayout()
    return layout


class WrappingDelegate(QStyledItemDelegate):
    """A row of a list: its icon (a visit's thumbnails), beside the text when the list is wide
    enough for both and above it when not; the text wrapped to the list's width, its first
    line in bold when ``bold_first``."""

    def __init__(self, view: QListView, *, bold_first: bool = False) -> None:
        super().__init__(view)
        self._bold_first = bold_first

    def _parts(
        self, option: QStyleOptionViewItem, index: Index, width: int
    ) -> tuple[QSize, bool, list[str], QFont]:
        """The strip's size as drawn, whether the text goes beside it, the lines, the bold font."""
        strip = index.data(StripSizeRole)  # a model that knows it, without drawing the strip
        if not isinstance(strip, QSize):
            icon = index.data(Qt.ItemDataRole.DecorationRole)
            strip = (
                icon.availableSizes()[0]
                if isinstance(icon, QIcon) and icon.availableSizes()
                else QSize()
            )
        inner = max(1, width - 2 * PAD)
        beside = strip.isValid() and inner - strip.width() - PAD >= SIDE_TEXT
        if strip.isValid() and not beside and strip.width() > inner:
            strip = strip.scaled(inner, strip.height(), Qt.AspectRatioMode.KeepAspectRatio)
        lines = str(index.data(Qt.ItemDataRole.DisplayRole) or "").split("\n")
        bold = QFont(option.font)
        bold.setBold(self._bold_first)
        return strip, beside, lines, bold

    def _text_rect(self, rect: QRect, strip: QSize, beside: bool) -> QRect:
        inner = rect.adjusted(PAD, PAD, -PAD, -PAD)
        if not strip.isValid():
            return inner
        if beside:
            return inner.adjusted(strip.width() + PAD, 0, 0, 0)
        return inner.adjusted(0, strip.height() + PAD // 2, 0, 0)

    @staticmethod
    def _heights(lines: list[str], bold: QFont, font: QFont, width: int) -> tuple[int, int]:
        first = _layout(lines[0], bold, width).boundingRect().height()
        rest = _layout("\u2028".join(lines[1:]), font, width).boundingRect().height()
        return int(first + 0.999), int(rest + 0.999) if len(lines) > 1 else 0

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        view = option.widget
        width = view.viewport().width() - 2 * view.spacing() if isinstance(view, QListView) else 300
        strip, beside, lines, bold = self._parts(option, index, width)
        text = self._text_rect(QRect(0, 0, width, 100000), strip, beside)
        first, more = self._heights(lines, bold, option.font, text.width())
        high = first + more
        if strip.isValid():
            high = max(high, strip.height()) if beside else high + strip.height() + PAD // 2
        return QSize(width, high + 2 * PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget is not None else None
        rect = QRect(opt.rect)
        opt.text = ""
        opt.icon = QIcon()
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        strip, beside, lines, bold = self._parts(option, index, rect.width())
        painter.save()
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(icon, QIcon) and strip.isValid():
            place = QRect(rect.left() + PAD, rect.top() + PAD, strip.width(), strip.height())
            icon.paint(painter, place, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(opt.palette.color(role))
        text = self._text_rect(rect, strip, beside)
        first, _more = self._heights(lines, bold, option.font, text.width())
        _layout(lines[0], bold, text.width()).draw(painter, QPointF(text.topLeft()))
        rest = _layout("\u2028".join(lines[1:]), option.font, text.width())
        rest.draw(painter, QPointF(text.left(), text.top() + first))
        painter.restore()


def wrap_list(view: QListView, *, bold_first: bool = False) -> None:
    """Draw ``view``'s rows with a ``WrappingDelegate``, as wide as the list: the rows grow
    taller as the list narrows, instead of a sideways scroll bar."""
    view.setItemDelegate(WrappingDelegate(view, bold_first=bold_first))
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.viewport().installEventFilter(_Relayout(view))


class _Relayout(QObject):
    """Lays a list's rows out again when its width changes (their heights follow it)."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view
        self._width = -1

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            width = self._view.viewport().width()
            if width != self._width:
                self._width = width
                self._view.scheduleDelayedItemsLayout()
        return False


class ElidedLabel(QLabel):
    """One line of plain text, shortened with "…" to the width it has; the whole text is its
    tooltip when it is shortened. Its height is one line whatever the text, and it never
    asks for more width than a few characters."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def minimumSizeHint(self) -> QSize:
        metrics = QFontMetrics(self.font())
        margins = self.contentsMargins()
        return QSize(
            metrics.averageCharWidth() * 8, metrics.height() + margins.top() + margins.bottom()
        )

    def sizeHint(self) -> QSize:
        metrics = QFontMetrics(self.font())
        margins = self.contentsMargins()
        width = metrics.horizontalAdvance(self.text()) + margins.left() + margins.right()
        return QSize(width, metrics.height() + margins.top() + margins.bottom())

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        metrics = QFontMetrics(self.font())
        shown = metrics.elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        self.setToolTip(self.text() if shown != self.text() else "")
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(
            rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown
        )
        painter.end()


class FlowLayout(QLayout):
    """A row of widgets that goes on to a second line when it is too narrow for them (a
    1024-pixel screen, 200 % text), instead of making the window wider than the screen. A
    ``stretch`` between two widgets pushes what follows to the right while they share a line."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 8) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gap = spacing
        self._breaks: set[int] = set()  # indices of widgets that follow a stretch
        # Qt asks the height for one width hundreds of times a relayout (a rating tab of
        # flowing rows: 1,700 asks a client switch, 56 ms of it); kept until the layout is
        # invalidated, which a child's new size hint does.
        self._heights: dict[int, int] = {}
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)
        self.invalidate()

    def add_stretch(self) -> None:
        self._breaks.add(len(self._items))

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        if not 0 <= index < len(self._items):
            return None
        self.invalidate()
        return self._items.pop(index)

    def invalidate(self) -> None:
        self._heights.clear()
        super().invalidate()

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        high = self._heights.get(width)
        if high is None:
            high = self._heights[width] = self._place(QRect(0, 0, width, 0), move=False)
        return high

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        widths = [i.sizeHint().width() for i in self._items]
        high = max((i.sizeHint().height() for i in self._items), default=0)
        return QSize(sum(widths) + self._gap * max(0, len(widths) - 1), high)

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _place(self, rect: QRect, *, move: bool) -> int:
        """Lay the items out in lines within ``rect``; returns the height they take."""
        lines: list[list[QLayoutItem]] = [[]]
        starts: list[list[bool]] = [[]]
        x = 0
        for n, item in enumerate(self._items):
            if item.isEmpty():
                continue
            w = item.sizeHint().width()
            if lines[-1] and x + w > rect.width():
                lines.append([])
                starts.append([])
                x = 0
            lines[-1].append(item)
            starts[-1].append(n in self._breaks)
            x += w + self._gap
        y = rect.y()
        for line, pushed in zip(lines, starts, strict=True):
            if not line:
                continue
            high = max(i.sizeHint().height() for i in line)
            total = sum(i.sizeHint().width() for i in line) + self._gap * (len(line) - 1)
            spare = max(0, rect.width() - total)
            x = rect.x()
            for item, push in zip(line, pushed, strict=True):
                if push and item is not line[0]:
                    x += spare
                    spare = 0
                w = item.sizeHint().width()
                if move:
                    item.setGeometry(
                        QRect(
                            x,
                            y + (high - item.sizeHint().height()) // 2,
                            w,
                            item.sizeHint().height(),
                        )
                    )
                x += w + self._gap
            y += high + self._gap
        return max(0, y - rect.y() - self._gap)


def set_heading(label: QLabel, scale: float) -> None:
    """Make ``label`` a heading: semi-bold, ``scale`` times the size of the text around it,
    so that with 200 % text the headings are 200 % too (a size in points would stay put)."""
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setWeight(QFont.Weight.DemiBold)
    label.setFont(font)
