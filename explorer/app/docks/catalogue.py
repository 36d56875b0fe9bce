"""The model catalogue: a tree by family with a filter box, each model's task and size.
Built from the registry only; sizes arrive from a background count."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QHeaderView, QLineEdit, QTreeView, QVBoxLayout, QWidget

from ... import zoo

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
            # the name first: a narrow dock cuts it in its middle ("preact_…1_cifar")
            row[0].setToolTip(f"{name}\n{info.paper} ({info.year}), {info.task}\n"
                              f"{info.description}"
                              f"\nRandom init: {info.initialisation}")
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
        self.filter.returnPressed.connect(self.open_current)  # Enter opens the match
        self.filter.installEventFilter(self)  # Down goes into the list
        self.tree = QTreeView(self)
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.expandAll()
        # the name takes what the size leaves, cut in its middle if it must
        # ("shufflen…v2_x0_5", not "shufflenet_v2_x…": the four read alike)
        self.tree.setIndentation(14)
        self.tree.setTextElideMode(Qt.ElideMiddle)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        header.setSectionResizeMode(PARAMS, QHeaderView.Fixed)
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

    def models_shown(self) -> list[str]:
        """The models the filter lets through, in the list's order."""
        names = []
        for f in range(self.proxy.rowCount()):
            family = self.proxy.index(f, 0)
            names += [self.proxy.index(r, 0, family).data(NAME_ROLE)
                      for r in range(self.proxy.rowCount(family))]
        return names

    def _first_shown(self):
        for f in range(self.proxy.rowCount()):
            family = self.proxy.index(f, 0)
            if self.proxy.rowCount(family):
                return self.proxy.index(0, 0, family)
        return None

    def open_current(self) -> None:
        """Enter in the filter: the selected model if the filter shows it, else the
        first one it shows."""
        index = self.tree.currentIndex()
        if not (index.isValid() and index.data(NAME_ROLE)):
            index = self._first_shown()
        if index is not None:
            self.tree.setCurrentIndex(index)
            self._activated(index)

    def eventFilter(self, watched, event) -> bool:
        if (watched is self.filter and event.type() == QEvent.KeyPress
                and event.key() == Qt.Key_Down):
            index = self._first_shown()
            if index is not None:
                self.tree.setFocus()
                self.tree.setCurrentIndex(index)
            return True
        return super().eventFilter(watched, event)

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
