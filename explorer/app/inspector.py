"""The layer inspector: everything known about the selected node, as rich text."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QTextBrowser

from ..analysis.summary import Row
from ..graph.style import motif_text, shape_text


class Inspector(QTextBrowser):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setPlaceholderText("Select a layer in the graph or the table.")

    def show_node(self, node_id: str, data: dict, row: Row | None) -> None:
        lines = [f"<h3>{escape(node_id)}</h3>",
                 f"<b>{escape(str(data.get('op', '')))}</b>"
                 + (" (folded block)" if data.get("folded") else ""),
                 "<table cellspacing=4>"]

        def add(key: str, value) -> None:
            lines.append(f"<tr><td><i>{escape(key)}</i></td><td>{escape(str(value))}</td></tr>")

        add("module path", data.get("path", node_id))
        for shape in data.get("in_shapes", []):
            add("input", shape_text(shape))
        add("output", shape_text(data.get("out_shape", ())))
        add("parameters", f"{data.get('params', 0):,}")
        if data.get("trainable") is not None and data.get("trainable") != data.get("params"):
            add("trainable", f"{data['trainable']:,}")
        add("MACs", f"{data.get('flops', 0) // 2:,}")
        if row is not None:
            add("share of MACs", f"{100 * row.share:.2f}%")
            add("receptive field", f"{row.receptive_field} px, stride {row.stride:g}")
            add("activation", f"{row.activation_bytes:,} bytes")
        for key, value in (data.get("attrs") or {}).items():
            add(key, value)
        if data.get("members"):
            add("layers inside", len(data["members"]))
        if data.get("count", 1) > 1:
            add("repeated", f"×{data['count']}")
        if data.get("motifs"):
            add("inside", motif_text(data["motifs"]))
        lines.append("</table>")
        self.setHtml("".join(lines))
