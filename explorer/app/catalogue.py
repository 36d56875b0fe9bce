"""The model catalogue: a tree by family with a filter box, each model's task and size.
Built from the registry only; sizes arrive from a background count."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QLineEdit, QTreeView, QVBoxLayout, QWidget

from .. import zoo

NAME_ROLE = Qt.UserRole + 1
# The task column stays hidden: the family mostly says it, the tooltip says it, and the
# filter still matches it; the narrow dock shows the name and the size whole.
COLUMNS = ("model", "params", "task")
PARAMS, TASK = COLUMNS.index("params"), COLUMNS.index("task")


class Catalogue(QWidget):
    modelChosen = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.items: dict[str, list[QStandardItem]] = {}
        families: dict[str, QStandardItem] = {}
        for name in zoo.list_models():
            info = zoo.get_info(name)
            family = families.get(info.family)
            if family is None:
                family = QStandardItem(info.family)
                family.setSelectable(False)
                families[info.family] = family
                self.model.appendRow([family, QStandardItem(), QStandardItem()])
            row = [QStandardItem(name), QStandardItem(""), QStandardItem(info.task)]
            row[0].setData(name, NAME_ROLE)
            row[0].setToolTip(f"{info.paper} ({info.year}), {info.task}\n{info.description}")
            for item in row:
                item.setEditable(False)
            family.appendRow(row)
            self.items[name] = row
        for family in families.values():
            family.setEditable(False)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setFilterCaseSensitivity(Qt.CaseInsensitive)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter models (name, family, task)…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter)
        self.tree = QTreeView(self)
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.expandAll()
        self.tree.setColumnWidth(0, 158)
        self.tree.setColumnWidth(PARAMS, 52)
        self.tree.setColumnHidden(TASK, True)
        self.tree.activated.connect(self._activated)
        self.tree.clicked.connect(self._activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree)

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self.proxy.setFilterKeyColumn(-1)
        self.tree.expandAll()

    def _activated(self, index) -> None:
        name = self.proxy.index(index.row(), 0, index.parent()).data(NAME_ROLE)
        if name:
            self.modelChosen.emit(name)

    def set_size(self, name: str, params: int) -> None:
        row = self.items.get(name)
        if row:
            row[PARAMS].setText(f"{params / 1e6:.1f}M" if params >= 1e5
                                else f"{params / 1e3:.0f}k")
            row[PARAMS].setData(params, Qt.UserRole)
            row[PARAMS].setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)

    def select(self, name: str) -> None:
        """Show ``name`` as the current model; a model from a file selects nothing."""
        row = self.items.get(name)
        if row is None:
            self.tree.clearSelection()
            self.tree.setCurrentIndex(self.proxy.index(-1, -1))
        else:
            index = self.proxy.mapFromSource(row[0].index())
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)
