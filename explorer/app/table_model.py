"""The layer table: a Qt model over a core LayerTable, sortable and filterable."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt

from ..analysis.summary import LayerTable, Row
from ..graph.style import shape_text

COLUMNS = [("#", "index"), ("layer", "name"), ("type", "type"), ("output", "out_shape"), ("params", "params"),
           ("MACs", "macs"), ("share", "share"), ("activation", "activation_bytes"),
           ("RF", "receptive_field"), ("stride", "stride")]


_ROOT = QModelIndex()


def _bytes(n: int) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


class LayerTableModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.table: LayerTable | None = None
        self.rows: list[Row] = []

    def set_table(self, table: LayerTable) -> None:
        self.beginResetModel()
        self.table = table
        self.rows = list(table.rows)
        self.endResetModel()

    def rowCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=_ROOT) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return COLUMNS[section][0]
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        key = COLUMNS[index.column()][1]
        value = index.row() if key == "index" else getattr(row, key)
        if role == Qt.UserRole:  # sort key
            return value if not isinstance(value, tuple) else len(value) and value[-1]
        if role == Qt.TextAlignmentRole and key not in ("name", "type", "out_shape"):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role != Qt.DisplayRole:
            return None
        if key == "out_shape":
            return shape_text(value)
        if key == "share":
            return f"{100 * value:.2f}%"
        if key == "activation_bytes":
            return _bytes(value)
        if key in ("params", "macs"):
            return f"{value:,}"
        if key == "stride":
            return f"{value:g}"
        return str(value)

    def row_of(self, name: str) -> int:
        for i, r in enumerate(self.rows):
            if r.name == name:
                return i
        return -1

    def totals_text(self) -> str:
        if self.table is None:
            return ""
        t = self.table.total
        return (f"{len(self.rows)} layers · {t['params']:,} parameters "
                f"({t['trainable_params']:,} trainable) · {t['macs'] / 1e9:.3f} GMACs · "
                f"{t['flops'] / 1e9:.3f} GFLOPs · activations {_bytes(t['activation_bytes'])}")


class LayerFilter(QSortFilterProxyModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(Qt.UserRole)
        self.setFilterCaseSensitivity(Qt.CaseInsensitive)
        self.setFilterKeyColumn(-1)
