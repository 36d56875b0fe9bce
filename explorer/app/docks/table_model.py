"""The layer table: a QStandardItemModel filled from a core LayerTable, sortable (by the
numbers, not their text) and filterable.

A stock model on purpose: its cells are served from C++, so repainting the table never
calls into Python and never waits for the GIL a worker thread holds."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

from ...analysis.summary import LayerTable, Row
from ...export.table_export import human
from ...graph.style import shape_text
from ...limits import bytes_text

COLUMNS = [("#", "index"), ("layer", "name"), ("type", "type"), ("output", "out_shape"),
           ("params", "params"), ("MACs", "macs"), ("share", "share"),
           ("activation", "activation_bytes"), ("RF", "receptive_field"), ("stride", "stride"),
           ("inside", "inside")]  # hidden: a folded block's layers, so the filter sees them
INSIDE = len(COLUMNS) - 1
SORT_ROLE = Qt.UserRole + 1
RIGHT = int(Qt.AlignRight | Qt.AlignVCenter)


def _text(key: str, value) -> str:
    if key == "out_shape":
        return shape_text(value)
    if key == "share":
        return f"{100 * value:.2f}%"
    if key == "activation_bytes":
        return bytes_text(value)
    if key in ("params", "macs"):
        return f"{value:,}"
    if key == "stride":
        return f"{value:g}"
    return str(value)


class LayerTableModel(QStandardItemModel):
    def __init__(self, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels([c[0] for c in COLUMNS])
        self.table: LayerTable | None = None
        self.rows: list[Row] = []
        self.folded = 0  # rows that are folded blocks, not layers

    def set_table(self, table: LayerTable, view=None) -> None:
        """The rows of ``table``; ``view`` (the folded graph) names each block's layers."""
        self.table = table
        self.rows = list(table.rows)
        self.folded = sum(bool(_inside(view, row.name)) for row in self.rows)
        self.removeRows(0, self.rowCount())
        for i, row in enumerate(self.rows):
            items = []
            for key in (c[1] for c in COLUMNS):
                if key == "inside":
                    value = _inside(view, row.name)
                else:
                    value = i if key == "index" else getattr(row, key)
                shown = row.label if key == "name" else _text(key, value)  # a run: "a … b ×2"
                item = QStandardItem(shown)
                item.setEditable(False)
                sort = value if isinstance(value, (int, float, str)) else (
                    value[-1] if value else 0)
                item.setData(sort, SORT_ROLE)
                if key not in ("name", "type", "out_shape"):
                    item.setData(RIGHT, Qt.TextAlignmentRole)
                items.append(item)
            self.appendRow(items)

    def clear(self) -> None:
        self.table, self.rows, self.folded = None, [], 0
        self.removeRows(0, self.rowCount())

    def row_of(self, name: str) -> int:
        for i, r in enumerate(self.rows):
            if r.name == name:
                return i
        return -1

    def totals_text(self) -> str:
        if self.table is None:
            return ""
        t = self.table.total
        # a folded block is a row, not a layer (was: "21 layers" for ResNet-34's 21 rows)
        rows = (f"{len(self.rows)} rows ({self.folded} folded blocks)" if self.folded
                else f"{len(self.rows)} layers")
        return (f"{rows} · {t['params']:,} parameters "
                f"({t['trainable_params']:,} trainable) · {human(t['macs'])} MACs · "
                f"{human(t['flops'])} FLOPs · activations {bytes_text(t['activation_bytes'])}")


def _inside(view, name: str) -> str:
    if view is None or name not in view.nx:
        return ""
    members = view.nx.nodes[name].get("members") or []
    return " ".join(members)


class LayerFilter(QSortFilterProxyModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseInsensitive)
        self.setFilterKeyColumn(-1)
