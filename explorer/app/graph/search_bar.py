"""Find a layer: a box, a Next button and a count, rendering the ViewState's search.

Every layer of the whole graph is searched, folded ones included; stepping to a match
inside a folded block is an intent (``hitChosen``) that unfolds the view to it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy, QWidget

from ...viewstate import Search, ViewState


class SearchBar(QWidget):
    hitChosen = Signal(str)

    def __init__(self, state: ViewState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.box = QLineEdit(placeholderText="Find layer (Ctrl+F)", clearButtonEnabled=True,
                             toolTip="a name, a type or what a box reads (inception, 7x1), "
                                     "or attributes: groups>1 kernel=5 type=Conv2d stride=2 "
                                     "params>1e6")
        # Wide enough for its own example query with the clear button beside it.
        self.box.setMinimumWidth(self.box.fontMetrics().horizontalAdvance(
            "type=Conv2d stride=2 groups>1") + 40)
        self.box.setMaximumWidth(self.box.minimumWidth() + 80)
        self.box.textChanged.connect(state.find)
        self.box.returnPressed.connect(self.find_next)
        self.next_button = QPushButton("Next")
        self.next_button.clicked.connect(self.find_next)
        self.count = QLabel("")
        self.setSizePolicy(QSizePolicy.Maximum, QSizePolicy.Fixed)  # no stretched button
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.box)
        row.addWidget(self.next_button)
        row.addWidget(self.count)
        state.events.search.connect(self._render)

    def focus(self) -> None:
        self.box.setFocus()
        self.box.selectAll()

    def find_next(self) -> str | None:
        node = self.state.next_hit()
        if node is not None:
            self.hitChosen.emit(node)
        return node

    def _render(self, search: Search) -> None:
        if self.box.text() != search.text:
            self.box.setText(search.text)
        if not search.text:
            self.count.setText("")
        elif search.error:
            self.count.setText(f" {search.error}")
        elif search.current is None:
            self.count.setText(f" {len(search.hits)} found")
        else:
            self.count.setText(f" {search.position + 1}/{len(search.hits)}")
