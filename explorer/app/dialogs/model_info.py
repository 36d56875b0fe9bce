"""Model ▸ Model info: totals, op counts, depth, input and output, the weights in use
(explorer.analysis.model_overview computes them; this dialog only lays them out)."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout

from ...viewstate import ViewState


def overview_html(o) -> str:
    def shapes(items) -> str:
        return ", ".join("×".join(map(str, s)) for s in items) or "-"

    t = o.total
    rows = [("model", o.model), ("weights", o.weights), ("input", shapes(o.input_shapes)),
            ("output", shapes(o.output_shapes)), ("parameters", f"{t['params']:,}"),
            ("trainable", f"{t['trainable_params']:,}"), ("MACs", f"{t['macs']:,}"),
            ("FLOPs", f"{t['flops']:,}"), ("activations", f"{t['activation_bytes']:,} bytes"),
            ("depth", f"{o.weight_depth} weight layers on the longest path, "
                      f"{o.module_depth} levels of modules"),
            ("nodes", f"{o.nodes}")]
    head = "".join(f"<tr><td><i>{escape(k)}</i></td><td>{escape(v)}</td></tr>"
                   for k, v in rows)
    ops = "".join(f"<tr><td>{escape(op)}</td><td align=right>{n}</td></tr>"
                  for op, n in o.op_counts.items())
    return (f"<h3>{escape(o.model)}</h3><table cellspacing=4>{head}</table>"
            f"<h4>Operations</h4><table cellspacing=4>{ops}</table>")


class ModelInfoDialog(QDialog):
    def __init__(self, state: ViewState, parent=None) -> None:
        super().__init__(parent)
        from ...analysis.model_overview import overview

        p = state.model
        self.setWindowTitle(f"Model info — {p.name}")
        self.resize(460, 560)
        self.overview = overview(p.graph, p.table, state.weights.label)
        self.text = QTextBrowser()
        self.text.setHtml(overview_html(self.overview))
        QVBoxLayout(self).addWidget(self.text)
