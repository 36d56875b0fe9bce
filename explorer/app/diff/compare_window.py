"""Model ▸ Compare with…: two models' graphs side by side, the difference drawn.

A window of its own: the two model boxes on top (a name, ``name:key=value,...`` or a
model file), a lesson's claim when one opened it, the two panes (the same graph view as
the main window: zoom, pan, click, double-click to unfold, which unfolds the match too)
scrolling and zooming together along the matched nodes, the legend, and beside them the
rows of both models aligned, differences first (click: both panes go there and the two
layers show side by side with what differs). What it shows lives in a ``DiffState``."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...diffstate import DiffPrepared, DiffState, prepare_diff, refold, toggled_spec
from ...graph.style import DIFF_STYLES
from ..controllers.workers import Runner
from ..errors import describe
from .details import pair_html, row_texts, status_text
from .pane import DiffPane

COLUMNS = ("A", "B", "status", "Δ parameters", "Δ MACs", "what differs")


class CompareWindow(QMainWindow):
    def __init__(self, names: list[str], a: str, b: str, measure, pool=None, parent=None,
                 claim: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare models")
        self.resize(1500, 950)
        self.state = DiffState()
        self.measure = measure
        self.claim = claim
        self.runner = Runner(self, pool)
        self.runner.finished.connect(self._done)
        self.runner.failed.connect(self._failed)
        self.a, self.b = self._model_box(names, a), self._model_box(names, b)
        self._compare_on_enter()
        go = QPushButton("Compare")
        go.clicked.connect(self.compare)
        totals = QPushButton("Totals by stage…")
        totals.clicked.connect(self.show_totals)
        expand = QPushButton("Expand all")
        expand.setToolTip("Every layer of both models (double-click a layer to fold its "
                          "block again)")
        expand.clicked.connect(self.expand_all)
        fit = QPushButton("Fit")
        fit.clicked.connect(lambda: self.panes["a"].view.fit())
        export = QPushButton("Export…")
        export.setToolTip("Both diagrams side by side as SVG or PNG, or the diff as JSON or "
                          "Markdown")
        export.clicked.connect(self.ask_export)
        self.find_box = QLineEdit()
        self.find_box.setPlaceholderText("Find in both: name or operator, Enter for next")
        self.find_box.setClearButtonEnabled(True)
        self.find_box.returnPressed.connect(self.find_next)
        top = QHBoxLayout()
        for widget in (QLabel("A"), self.a, QLabel("B"), self.b, go, expand, fit, export,
                       totals):
            top.addWidget(widget)
        top.addWidget(self.find_box, 1)
        self.claim_label = QLabel()
        self.claim_label.setWordWrap(True)
        self.claim_label.setStyleSheet("padding: 4px; font-style: italic;")
        self.status = QLabel()
        self.panes = {"a": DiffPane("a"), "b": DiffPane("b")}
        self.only_differences = QCheckBox("differences only")
        self.only_differences.setChecked(True)
        self.only_differences.toggled.connect(lambda _: self._fill_rows())
        self.rows = QTreeWidget()
        self.rows.setHeaderLabels(COLUMNS)
        self.rows.setRootIsDecorated(False)
        self.rows.setUniformRowHeights(True)
        self.rows.currentItemChanged.connect(self._row_clicked)
        self.detail = QTextBrowser()
        side = QSplitter(Qt.Vertical)
        side_top = QWidget()
        column = QVBoxLayout(side_top)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.only_differences)
        column.addWidget(self.rows, 1)
        side.addWidget(side_top)
        side.addWidget(self.detail)
        self.split = QSplitter(Qt.Horizontal)
        self.split.addWidget(self.panes["a"])
        self.split.addWidget(self.panes["b"])
        self.split.addWidget(side)
        self.split.setSizes([520, 520, 460])
        self.legend = QLabel()
        self.legend.setWordWrap(True)  # the counts never set the window's width
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addLayout(top)
        layout.addWidget(self.claim_label)
        layout.addWidget(self.split, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.status)
        self.setCentralWidget(body)
        self._syncing = False
        self._keep: tuple[str, str | None] | None = None  # where a refold should stay
        for side_key, pane in self.panes.items():
            other = self.panes["b" if side_key == "a" else "a"]
            view = pane.view
            view.verticalScrollBar().valueChanged.connect(
                lambda _, s=pane, o=other: self._follow(s, o))
            view.zoomChanged.connect(lambda _, s=pane, o=other: self._follow(s, o))
            pane.nodeSelected.connect(lambda n, k=side_key: self.state.select_side(k, n))
            pane.nodeActivated.connect(lambda n, k=side_key: self.toggle(k, n))
        self.state.events.shown.connect(self._render)
        self.state.events.selection.connect(self._render_selection)
        self.compare()

    @staticmethod
    def _model_box(names: list[str], value: str) -> QComboBox:
        box = QComboBox()
        box.setEditable(True)  # "resnet34:shortcut=A", a model file
        box.addItems(names)
        box.setCurrentText(value)
        box.setMinimumContentsLength(22)
        return box

    def _compare_on_enter(self) -> None:
        """Enter in a model box compares, as the button does (was: nothing)."""
        for box in (self.a, self.b):
            box.lineEdit().returnPressed.connect(self.compare)

    # ---------------------------------------------------------------- intents
    def compare(self) -> None:
        a, b = self.a.currentText().strip(), self.b.currentText().strip()
        measure, claim = self.measure, self.claim
        self.status.setText(f"Tracing and matching {a} and {b}…")
        self.runner.submit(lambda progress: prepare_diff(a, b, measure=measure, claim=claim,
                                                         check=progress.check))

    def find_next(self) -> None:
        text = self.find_box.text()
        if self.state.find_next(text) is None and text.strip():
            self.status.setText(f"No layer of either model matches {text!r}.")
        elif text.strip():
            hits = self.state.hits
            self.status.setText(f"{hits.index(self.state.selection) + 1} of {len(hits)} "
                                f"rows match {text!r}.")

    def toggle(self, side: str, node_id: str) -> None:
        """Double-click in a pane: unfold the block (and its match) or fold the layer's."""
        p = self.state.prepared
        if p is None:
            return
        spec = toggled_spec(p, side, node_id)
        if spec is None:
            return
        measure = self.measure
        self.status.setText("Folding both…")
        self._keep = (side, node_id)
        self.runner.submit(lambda progress: refold(p.graph_a, p.graph_b, spec, measure,
                                                   p.claim, (p.label_a, p.label_b)))

    def expand_all(self) -> None:
        from ...graph import FoldSpec

        p = self.state.prepared
        if p is not None:
            measure = self.measure
            self.status.setText("Unfolding both…")
            self._keep = ("a", self._node_in_view("a"))
            self.runner.submit(lambda progress: refold(p.graph_a, p.graph_b, FoldSpec(),
                                                       measure, p.claim,
                                                       (p.label_a, p.label_b)))

    def ask_export(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        p = self.state.prepared
        if p is None:
            return
        stem = f"{p.graph_a.model}_vs_{p.graph_b.model}".replace(":", "_").replace("/", "_")
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the comparison", stem + ".svg",
            "SVG (*.svg);;PNG (*.png);;JSON (*.json);;Markdown (*.md)")
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        """What the panes show (the same fold, the same box sizes), as one drawing with
        both side by side, or the diff as data; a failure is one line in the status."""
        from ...export.files import protecting
        from ...graph.diff_layout import pair_layout
        from ...zoo import model_file

        p = self.state.prepared
        pair = pair_layout(p.diff, self.measure)
        inputs = [model_file(g.model) for g in (p.graph_a, p.graph_b)]
        try:
            with protecting(inputs):  # a model's own file is never a destination
                note = self._write(p, pair, path)
        except (OSError, ValueError) as exc:
            self.status.setText(f"Could not write {path}: {exc}")
            return
        self.status.setText(f"Wrote {path}{note}")

    @staticmethod
    def _write(p: DiffPrepared, pair, path: str) -> str:
        """Write the file; what to add to "Wrote PATH" (a PNG made smaller to fit)."""
        from ...export.diff_export import write_diff
        from ...export.image_size import SMALLEST_SCALE, ExportTooLarge

        try:
            write_diff(p.diff, pair, path)
            return ""
        except ExportTooLarge as exc:  # a PNG still fits smaller: say so
            if exc.fmt != "png" or exc.fits < SMALLEST_SCALE:
                raise ValueError(f"{exc.size[0]:,}×{exc.size[1]:,} px is more than "
                                 "viewers open; fold more first") from None
            write_diff(p.diff, pair, path, scale=exc.fits)
            return f" at scale {exc.fits:g}, the largest that viewers open"

    def show_totals(self) -> None:
        from ... import zoo
        from ..dialogs.compare import CompareDialog

        p = self.state.prepared
        a = p.graph_a.model if p else self.a.currentText()
        b = p.graph_b.model if p else self.b.currentText()
        CompareDialog(zoo.list_models(), a.split(":")[0], b.split(":")[0], self).open()

    def closeEvent(self, event) -> None:
        self.runner.cancel()  # a comparison still being traced is not wanted any more
        super().closeEvent(event)

    # ---------------------------------------------------------------- results
    def _done(self, generation, result, note) -> None:
        if isinstance(result, DiffPrepared) and self.runner.is_current(generation):
            self.state.show(result)

    def _failed(self, generation, exc) -> None:
        if self.runner.is_current(generation):
            self.status.setText(describe(exc))

    # ---------------------------------------------------------------- rendering
    def _render(self, p: DiffPrepared) -> None:
        d = p.diff
        self.claim_label.setText(p.claim)
        self.claim_label.setVisible(bool(p.claim))
        self.setWindowTitle(f"Compare {p.label_a} with {p.label_b}")
        height = p.pair.height
        for side, view, lay, label in (("a", d.a, p.pair.a, p.label_a),
                                       ("b", d.b, p.pair.b, p.label_b)):
            self.panes[side].show_side(label, view, lay, d.node_status(side),
                                       d.edge_status(side), height)
        chips = []
        for status, (colour, _) in DIFF_STYLES.items():
            chips.append(f"<span style='background:{colour}'>&nbsp;&nbsp;&nbsp;&nbsp;</span> "
                         f"{status_text(status, p.label_a, p.label_b)}: {d.tally(status)}")
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(chips)
                            + f"&nbsp;&nbsp;&nbsp;same: {d.tally('same')}")
        self.status.setText("Double-click a block to unfold it in both; click a row to go "
                            "there in both.")
        self._fill_rows()
        keep, self._keep = self._keep, None
        target = _nearest(d.a if keep and keep[0] == "a" else d.b, keep[1]) if keep else None
        if target is None:
            self.panes["a"].view.show_start()
            self._follow(self.panes["a"], self.panes["b"])
        else:  # a fold or unfold stays where the person was looking
            pane = self.panes[keep[0]]
            pane.view.center_on(target)
            self._follow(pane, self.panes["b" if keep[0] == "a" else "a"])

    def _node_in_view(self, side: str) -> str | None:
        """The node whose box is nearest the middle of pane ``side``."""
        pane = self.panes[side]
        lay = pane.scene.layout
        if lay is None or not lay.boxes:
            return None
        centre = pane.view.mapToScene(pane.view.viewport().rect().center())
        return min(lay.boxes, key=lambda n: abs(lay.boxes[n].cy - centre.y())
                   + 0.1 * abs(lay.boxes[n].cx - centre.x()))

    def _shown_nodes(self):
        p = self.state.prepared
        if p is None:
            return []
        if self.only_differences.isChecked():
            return p.diff.differences()
        return p.diff.nodes

    def _fill_rows(self) -> None:
        p = self.state.prepared
        blocked = self.rows.blockSignals(True)
        try:
            self.rows.clear()
            for node in self._shown_nodes():
                da = p.diff.a.node(node.a) if node.a else None
                db = p.diff.b.node(node.b) if node.b else None
                texts = row_texts(node, da, db)
                item = QTreeWidgetItem(texts)
                item.setToolTip(len(texts) - 1, texts[-1])  # what differs, cut at the edge
                item.setData(0, Qt.UserRole, node)
                if node.status != "same":
                    item.setBackground(2, _brush(DIFF_STYLES[node.status][0]))
                self.rows.addTopLevelItem(item)
        finally:
            self.rows.blockSignals(blocked)
        for col in range(len(COLUMNS) - 1):
            self.rows.resizeColumnToContents(col)

    def _select_row(self, node) -> bool:
        for i in range(self.rows.topLevelItemCount()):
            item = self.rows.topLevelItem(i)
            if item.data(0, Qt.UserRole) == node:
                blocked = self.rows.blockSignals(True)
                self.rows.setCurrentItem(item)
                self.rows.blockSignals(blocked)
                return True
        return False

    def _row_clicked(self, item, _previous) -> None:
        if item is not None:
            self.state.select_node(item.data(0, Qt.UserRole))

    def _render_selection(self, node) -> None:
        p = self.state.prepared
        for side in ("a", "b"):
            self.panes[side].go_to(getattr(node, side) if node else None)
        if node is None or p is None:
            self.detail.clear()
            return
        if node.a is None or node.b is None:  # one side: show where it would sit
            other = "b" if node.a else "a"
            self._follow(self.panes["a" if other == "b" else "b"], self.panes[other])
        da = p.diff.a.node(node.a) if node.a else None
        db = p.diff.b.node(node.b) if node.b else None
        self.detail.setHtml(pair_html(node, da, db, p.label_a, p.label_b))
        if not self._select_row(node) and node.status == "same":
            blocked = self.only_differences.blockSignals(True)  # a same row: show them all
            self.only_differences.setChecked(False)
            self.only_differences.blockSignals(blocked)
            self._fill_rows()
            self._select_row(node)

    def _follow(self, source: DiffPane, target: DiffPane) -> None:
        """The other pane at the same zoom and the same height (matched nodes share it)."""
        if self._syncing:
            return
        self._syncing = True
        try:
            src, dst = source.view, target.view
            if not (src.isVisible() and dst.isVisible()):
                return  # closing: the views are going
            if abs(dst.zoom - src.zoom) > 1e-9:
                dst.setTransform(src.transform())
            y = src.mapToScene(src.viewport().rect().center()).y()
            x = dst.mapToScene(dst.viewport().rect().center()).x()
            dst.centerOn(x, y)
        finally:
            self._syncing = False


def _nearest(view, node_id: str | None) -> str | None:
    """``node_id`` in a new fold of ``view``'s graph: itself, the first layer of the block
    it was (now unfolded), or the block it is now folded into."""
    if node_id is None:
        return None
    if node_id in view.nx:
        return node_id
    inside = [n for n in view.nodes() if n.startswith(node_id + ".")]
    if inside:
        return inside[0]
    around = [n for n in view.nx if node_id.startswith(n + ".")]
    return max(around, key=len) if around else None


def _brush(colour: str):
    from PySide6.QtGui import QBrush, QColor

    c = QColor(colour)
    c.setAlpha(120)
    return QBrush(c)
