"""Every match of Find highlighted at once, in the graph and in the table: a match
inside a folded block lights the block up. Renders the ViewState's search."""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from ...viewstate import ViewState

HALO = QColor("#ffd400")


def visible_hits(view, hits) -> set[str]:
    """The view's nodes that are, hold or lie inside a hit: a layer, the folded block or
    run ×N holding it, and the drawn layers of a found block that is open."""
    wanted = set(hits)
    inside = tuple(f"{h}." for h in wanted)  # a found block's layers and sub-blocks
    lit = set()
    for n, d in view.nx.nodes(data=True):
        members = d.get("members") or ()
        if (n in wanted or n.startswith(inside) or wanted.intersection(members)
                or wanted.intersection(d.get("repeat_of") or ())
                or any(m.startswith(inside) for m in members)):
            lit.add(n)
    return lit


class SearchHighlighter:
    def __init__(self, state: ViewState, scene, table_model) -> None:
        self.state, self.scene, self.table = state, scene, table_model
        self.lit: set[str] = set()
        for event in (state.events.search, state.events.model, state.events.view):
            event.connect(lambda *_: self.render())

    def render(self) -> None:
        p = self.state.model
        self.lit = visible_hits(p.view, self.state.search.hits) if p is not None else set()
        for node, item in self.scene.nodes.items():
            halo = getattr(item, "halo", None)
            if node in self.lit and halo is None:
                halo = QGraphicsPathItem(item.path(), item)
                halo.setPen(QPen(HALO, 7))
                halo.setFlag(QGraphicsItem.ItemStacksBehindParent)
                item.halo = halo
            if halo is not None:
                halo.setVisible(node in self.lit)
        for i, row in enumerate(self.table.rows):
            brush = QBrush(HALO.lighter(150)) if row.name in self.lit else QBrush()
            for column in range(self.table.columnCount()):
                item = self.table.item(i, column)
                if item is not None:
                    item.setBackground(brush)
