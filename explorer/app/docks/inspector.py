"""The Layer dock: everything known about the selected node (a view of the ViewState's
selection; explorer.analysis.layer_info computes it).

What the graph knows shows at once; the live weights' statistics, a conv's filters and
the activation of the image just run are read by a job on the window's worker thread.
The weights are the live model's (``state.live``, the one images run through); without
one, the model is built on the CPU in that job and becomes the live model."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QTextDocumentFragment
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...analysis.summary import Row
from ...graph.style import motif_text, shape_text
from ...viewstate import LiveModel, ViewState, Weights
from ..controllers.workers import Runner
from .filter_grid import FilterGridView

# Two lines a cell, so that every figure fits a 250 px dock with no horizontal scroll
# (eight columns hid min/max/mean/std to the right even at 390 px); dtype and count are
# in the tensor's tooltip.
COLUMNS = ("tensor\nshape", "min\nmax", "mean\nstd")


@dataclass(frozen=True)
class LayerInspected:
    """A job's reading of one node with the live weights (and activation, if any)."""

    node: str
    info: Any  # analysis.layer_info.LayerInfo
    grid: Any  # analysis.filter_grid.FilterGrid or None
    live: LiveModel | None  # a model the job had to build, to become the live one


def _value(value) -> str:
    if isinstance(value, tuple):
        return "×".join(map(str, value))
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _number(value: float) -> str:
    return f"{value:.4g}"


def _histogram(title: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(title=title)
    plot.setFixedHeight(130)
    plot.setMouseEnabled(False, False)
    return plot


class Inspector(QScrollArea):
    def __init__(self, state: ViewState, pool=None, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.runner = Runner(self, pool=pool)
        self.runner.finished.connect(self._inspected)
        self.runner.failed.connect(lambda _g, exc: self.status.setText(
            f"weights not read: {exc}"))
        self.info = None  # the LayerInfo shown
        self.fields: dict[str, str] = {}  # the form's rows, label: text
        self.model_info_dialog = None
        self._args: tuple | None = None
        body = QWidget()
        self.setWidget(body)
        self.setWidgetResizable(True)
        # The content follows the dock's width (text wraps, the filters scale), never wider.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.title = QLabel("Select a layer in the graph or the table.", wordWrap=True)
        self.about = QLabel(wordWrap=True, openExternalLinks=False)
        self.about.linkActivated.connect(self.open_lesson)
        self.form = QFormLayout()
        self.source = QLabel(wordWrap=True)
        self.open_button = QPushButton("Open in editor", visible=False)
        self.open_button.clicked.connect(self.open_source)
        source_row = QHBoxLayout()
        source_row.addWidget(self.source, 1)
        source_row.addWidget(self.open_button)
        self.status = QLabel("", wordWrap=True)  # a long weights label held the dock wide
        self.tensors = QTableWidget(0, len(COLUMNS))
        self.tensors.setHorizontalHeaderLabels(COLUMNS)
        self.tensors.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.tensors.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.tensors.setSelectionMode(QAbstractItemView.SingleSelection)
        self.tensors.verticalHeader().setVisible(False)
        header = self.tensors.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.tensors.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.tensors.setWordWrap(True)
        self.tensors.currentCellChanged.connect(lambda row, *_: self._show_tensor(row))
        self.weight_hist = _histogram("weight values")
        self.filters = FilterGridView()
        self.activation = QLabel(wordWrap=True)
        self.activation_hist = _histogram("activation values")
        layout = QVBoxLayout(body)
        for item in (self.title, self.about, self.form, source_row, self.status,
                     self.filters, self.tensors, self.weight_hist, self.activation,
                     self.activation_hist):
            (layout.addLayout if not isinstance(item, QWidget) else layout.addWidget)(item)
        layout.addStretch(1)
        state.events.result.connect(lambda _r: self._reinspect())
        state.events.weights.connect(lambda _w: self._reinspect())
        self.clear()

    # ---------------------------------------------------------------- rendering
    def clear(self) -> None:
        self.runner.cancel()
        self.info, self._args = None, None
        self.title.setText("Select a layer in the graph or the table.")
        for widget in (self.about, self.source, self.status, self.activation):
            widget.setText("")
        self._fill_form({})
        self.open_button.setVisible(False)
        self.tensors.setRowCount(0)
        for widget in (self.tensors, self.weight_hist, self.activation_hist):
            widget.setVisible(False)
        self.filters.show_grid(None)

    def show_node(self, node_id: str, data: dict, row: Row | None) -> None:
        """What the graph knows now; the live weights' figures when the job is done."""
        from ...analysis.layer_info import layer_info

        p = self.state.model
        self._args = (node_id, dict(data), row)
        self._render(layer_info(p.graph, node_id, None, dict(data), row))
        self._inspect()

    def _render(self, info) -> None:
        self.info = info
        data = self.state.model.view.nx.nodes.get(info.node, {}) if self.state.model else {}
        self.title.setText(f"<h3>{escape(info.node)}</h3><b>{escape(info.type)}</b>"
                           + (" (folded block)" if info.folded else ""))
        op = info.operator
        self.about.setText("" if op is None else (
            f"<b>{escape(op.title)}</b>: {escape(op.text)}"
            + (f" <a href='lesson:{op.lesson}'>Lesson…</a>" if op.lesson else "")))
        rows = {k: _value(v) for k, v in info.attributes.items()}
        rows.update({f"input {i + 1}" if len(info.in_shapes) > 1 else "input": shape_text(s)
                     for i, s in enumerate(info.in_shapes)})
        rows.update({"output": shape_text(info.out_shape), "parameters": f"{info.params:,}",
                     "MACs": f"{info.macs:,}"})
        if info.share is not None:
            rows["share of MACs"] = f"{100 * info.share:.2f}%"
            rows["receptive field"] = f"{info.receptive_field} px, stride {info.stride:g}"
        rows.update({f"{op_name} inside": str(n) for op_name, n in info.members.items()})
        rows.update(info.file_node)
        if data.get("count", 1) > 1:
            rows["repeated"] = f"×{data['count']}"
        if data.get("motifs"):
            rows["motifs"] = motif_text(data["motifs"])
        self._fill_form(rows)
        src = info.source
        self.source.setText("" if src is None else
                            f"{src.how} {_breakable(src.file)}:{src.line}")
        self.open_button.setVisible(src is not None and src.user)
        self._fill_tensors(info.tensors)
        self._show_activation(info)

    def toPlainText(self) -> str:  # noqa: N802  (QTextBrowser's name: copy and tests)
        """What the dock shows about the node, as text; "" when nothing is selected."""
        if self.info is None:
            return ""
        labels = (self.title, self.about, self.source, self.activation)
        texts = [QTextDocumentFragment.fromHtml(w.text()).toPlainText().replace(_BREAK, "")
                 for w in labels]
        return "\n".join([*texts[:2], *(f"{k}: {v}" for k, v in self.fields.items()),
                          *texts[2:]])

    def _fill_form(self, rows: dict[str, str]) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields = rows
        for key, text in rows.items():
            value = QLabel(text, wordWrap=True)
            value.setObjectName(f"field_{key}")
            self.form.addRow(f"{key}", value)

    def _fill_tensors(self, tensors) -> None:
        self.tensors.setRowCount(len(tensors))
        for i, t in enumerate(tensors):
            s = t.stats
            cells = [f"{t.name}\n{'×'.join(map(str, t.shape)) or 'scalar'}",
                     f"{_number(s.min)}\n{_number(s.max)}" if s else "",
                     f"{_number(s.mean)}\n{_number(s.std)}" if s else ""]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{t.name}: {t.kind}, {t.dtype}, {t.count:,} values")
                if t.kind == "buffer":  # a running statistic, not a learnt weight
                    font = item.font()
                    font.setItalic(True)
                    item.setFont(font)
                self.tensors.setItem(i, j, item)
        self.tensors.resizeRowsToContents()
        self.tensors.setVisible(bool(tensors))
        header = self.tensors.horizontalHeader().sizeHint().height()  # as tall as its rows
        self.tensors.setFixedHeight(header + 4 + sum(self.tensors.rowHeight(i)
                                                     for i in range(len(tensors))))
        if tensors:
            self.tensors.setCurrentCell(0, 0)
            self._show_tensor(0)
        else:
            self.weight_hist.setVisible(False)

    def _show_tensor(self, row: int) -> None:
        tensors = self.info.tensors if self.info is not None else []
        stats = tensors[row].stats if 0 <= row < len(tensors) else None
        self.weight_hist.setVisible(stats is not None)
        if stats is not None:
            self._plot(self.weight_hist, stats.histogram, f"{tensors[row].name} values")

    def _show_activation(self, info) -> None:
        s = info.activation
        self.activation_hist.setVisible(s is not None)
        self.activation.setText("" if s is None else (
            f"<b>activation</b> {shape_text(info.activation_shape)} (image "
            f"{escape(self.state.image_name)}): min {_number(s.min)}, max {_number(s.max)}, "
            f"mean {_number(s.mean)}, std {_number(s.std)}, zeros {100 * s.zeros:.1f}%"))
        if s is not None:
            self._plot(self.activation_hist, s.histogram, "activation values")

    @staticmethod
    def _plot(plot: pg.PlotWidget, histogram, title: str) -> None:
        plot.clear()
        plot.setTitle(title)
        plot.plot(histogram.edges, histogram.counts, stepMode="center", fillLevel=0,
                  brush=(70, 130, 180, 160))

    # ---------------------------------------------------------------- the live weights
    def _reinspect(self) -> None:
        if self._args is not None and self.state.selection == self._args[0]:
            self._inspect()

    def _inspect(self) -> int | None:
        from ...analysis.filter_grid import filter_grid
        from ...analysis.layer_info import layer_info
        from ...analysis.layer_source import submodule

        p, state = self.state.model, self.state
        node, data, row = self._args
        live = state.live if state.live is not None and state.live.key == state.key else None
        capture = state.result.capture if state.result is not None else None
        name, options, key, graph = p.name, dict(p.options), state.key, p.graph

        def job(progress) -> LayerInspected:
            progress.check("reading the weights", 0.2)
            built = None
            if live is None:
                from ... import zoo

                built = LiveModel(key, zoo.build(name, **options), Weights.of(name))
            module = (live or built).module
            act = capture.get(node) if capture is not None and node in capture else None
            progress.check("computing statistics", 0.5)
            info = layer_info(graph, node, module, data, row, act)
            weight = getattr(submodule(module, info.path), "weight", None)
            grid = filter_grid(weight) if "Conv" in info.type and weight is not None else None
            return LayerInspected(node, info, grid, built)

        self.status.setText("reading the weights…")
        return self.runner.submit(job)

    def _inspected(self, generation: int, result, note: str) -> None:
        if result is None or not self.runner.is_current(generation):
            return
        if result.live is not None and self.state.live is None:
            self.state.set_live(result.live)  # images run through the weights shown here
        self.status.setText(f"weights: {self.state.weights.label}")
        if self._args is not None and result.node == self._args[0]:
            self._render(result.info)
            self.filters.show_grid(result.grid)

    # ---------------------------------------------------------------- intents
    def open_source(self) -> None:
        if self.info is not None and self.info.source is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.info.source.file))

    def open_lesson(self, link: str) -> None:
        from ..dialogs.compare import LessonsDialog

        lesson_id = link.removeprefix("lesson:")
        dialog = LessonsDialog(self.window())
        ids = [lesson.id for lesson in dialog.lessons]
        if lesson_id in ids:
            dialog.list.setCurrentRow(ids.index(lesson_id))
        dialog.open()

    def show_model_info(self) -> None:
        """Model ▸ Model info…: totals, op counts, depth, input and output, weights."""
        from ..dialogs.model_info import ModelInfoDialog

        if self.state.model is None:
            return
        self.model_info_dialog = ModelInfoDialog(self.state, self.window())
        self.model_info_dialog.open()


_BREAK = "\u200b"  # a zero-width space: where a long path may wrap


def _breakable(path: str) -> str:
    """A path that wraps at its separators in a narrow dock (a label breaks only at spaces)."""
    return path.replace("/", "/" + _BREAK).replace("\\", "\\" + _BREAK)
