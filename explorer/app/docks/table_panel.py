"""The layer table with its filter and totals: a view of the ViewState's model.

It renders the shown model's table and follows the selection; choosing a row is an
intent sent to the window (``rowChosen``), never a change the table makes by itself."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QTableView, QVBoxLayout, QWidget

from ...viewstate import ViewState
from .table_model import INSIDE, LayerFilter, LayerTableModel

WIDTHS = (40, 230, 130, 110, 90, 120, 70, 90, 60, 60)


class TablePanel(QWidget):
    rowChosen = Signal(str)  # a person picked a row

    def __init__(self, state: ViewState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self._following = False
        self.model = LayerTableModel(self)
        self.proxy = LayerFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.AscendingOrder)  # call order
        self.view.setSelectionBehavior(QTableView.SelectRows)
        self.view.setSelectionMode(QTableView.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.setMinimumHeight(60)  # a few rows: the graph keeps half a small window
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 6)
        for column, width in enumerate(WIDTHS):
            self.view.setColumnWidth(column, width)  # fixed: measuring rows blocks the UI
        self.view.setColumnHidden(INSIDE, True)
        self.view.selectionModel().currentRowChanged.connect(self._row_changed)
        self.filter = QLineEdit(self, placeholderText="Filter layers (folded blocks too)…",
                                clearButtonEnabled=True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.totals = QLabel(self)
        # wraps in a narrow window rather than setting its minimum width (665 px for
        # ResNet-18's line kept the window 1110 px wide)
        self.totals.setWordWrap(True)
        box = QVBoxLayout(self)
        box.setContentsMargins(2, 2, 2, 2)
        row = QHBoxLayout()
        row.addWidget(self.filter)
        row.addWidget(self.totals, 1)
        box.addLayout(row)
        box.addWidget(self.view)
        state.events.model.connect(self._render)
        state.events.view.connect(self._render)
        state.events.selection.connect(self._select)

    def _render(self, prepared) -> None:
        self._following = True
        try:
            self.model.set_table(prepared.table, prepared.view)
        finally:
            self._following = False
        self.totals.setText(self.model.totals_text())
        self._select(self.state.selection)

    def _select(self, node: str | None) -> None:
        """Follow the state's selection; the row change this causes is not an intent."""
        i = self.model.row_of(node) if node else -1
        index = self.proxy.mapFromSource(self.model.index(i, 0)) if i >= 0 else None
        self._following = True
        try:
            if index is None or not index.isValid():
                self.view.clearSelection()
            elif self.view.currentIndex().row() != index.row():
                self.view.selectRow(index.row())
                self.view.scrollTo(index)
        finally:
            self._following = False

    def _row_changed(self, current, _previous) -> None:
        if current.isValid() and not self._following:
            self.rowChosen.emit(self.model.rows[self.proxy.mapToSource(current).row()].name)
