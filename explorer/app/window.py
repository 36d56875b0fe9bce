"""The main window: catalogue, options, graph, inspector and table, wired together.

It imports no torch at module level: the window shows first, then ``load_core()``
imports the core and fills the docks (start-up stays under two seconds)."""

from __future__ import annotations

import functools
import gc
import platform
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QFontMetricsF, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

APP = "Architecture Explorer"
MAX_RECENT = 8


class MainWindow(QMainWindow):
    shown = Signal(str)  # a model or a new fold of it is on screen

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings("ArchitectureExplorer", "explorer")
        self.setWindowTitle(f"{APP} — loading…")
        self.setWindowIcon(app_icon())
        self.resize(1400, 900)
        self.prepared = None  # session.Prepared of the model shown
        self.spec = None
        self.direction = "TB"
        self.core_loaded = False
        self.search_hits: list[str] = []
        self.search_pos = -1
        self.selected_node: str | None = None
        self._build_status_bar()
        self._build_menus()
        placeholder = QLabel("Loading PyTorch…", alignment=Qt.AlignCenter)
        self.setCentralWidget(placeholder)
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)

    # ---------------------------------------------------------------- construction
    def load_core(self, count_sizes: bool = True) -> None:
        """Import the core (torch) and build the docks; called right after the first show.
        ``count_sizes`` fills the catalogue's parameter column in the background."""
        if self.core_loaded:
            return
        from .catalogue import Catalogue
        from .graph_view import GraphPanel
        from .inspector import Inspector
        from .options_form import OptionsForm
        from .table_model import LayerFilter, LayerTableModel
        from .workers import Runner

        self.runner = Runner(self)
        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.panel = GraphPanel(self)
        self.setCentralWidget(self.panel)
        self.panel.view.nodeSelected.connect(self.select_node)
        self.panel.view.nodeActivated.connect(self.toggle_block)

        self.catalogue = Catalogue(self)
        self.catalogue.modelChosen.connect(lambda name: self.open_model(name))
        self.options = OptionsForm(self)
        self.options.changed.connect(self._options_changed)
        self.inspector = Inspector(self)
        self.table_model = LayerTableModel(self)
        self.table_proxy = LayerFilter(self)
        self.table_proxy.setSourceModel(self.table_model)
        self.table_view = QTableView(self)
        self.table_view.setModel(self.table_proxy)
        self.table_view.setSortingEnabled(True)
        self.table_view.sortByColumn(0, Qt.AscendingOrder)  # call order
        self.table_view.setSelectionBehavior(QTableView.SelectRows)
        self.table_view.setSelectionMode(QTableView.SingleSelection)
        self.table_view.verticalHeader().setVisible(False)
        for column, width in enumerate((40, 230, 130, 110, 90, 120, 70, 90, 60, 60)):
            self.table_view.setColumnWidth(column, width)  # fixed: measuring rows blocks the UI
        self.table_view.selectionModel().currentRowChanged.connect(self._table_row_changed)
        self.table_filter = QLineEdit(self, placeholderText="Filter layers…",
                                      clearButtonEnabled=True)
        self.table_filter.textChanged.connect(self.table_proxy.setFilterFixedString)
        self.totals = QLabel(self)
        table_box = QWidget(self)
        box = QVBoxLayout(table_box)
        box.setContentsMargins(2, 2, 2, 2)
        row = QHBoxLayout()
        row.addWidget(self.table_filter)
        row.addWidget(self.totals, 1)
        box.addLayout(row)
        box.addWidget(self.table_view)

        from .inference_dock import InferenceController

        self.inference = InferenceController(self, self.runner.pool)
        self.inference.weightsChanged.connect(lambda _: self._update_title())
        self.docks = {}
        for key, title, widget, area in (
                ("catalogue", "Models", self.catalogue, Qt.LeftDockWidgetArea),
                ("options", "Options", self.options, Qt.LeftDockWidgetArea),
                ("inspector", "Layer", self.inspector, Qt.RightDockWidgetArea),
                ("image", "Image", self.inference.predictions, Qt.RightDockWidgetArea),
                ("table", "Layer table", table_box, Qt.BottomDockWidgetArea),
                ("features", "Feature maps", self.inference.features,
                 Qt.BottomDockWidgetArea)):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{key}")
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            self.view_menu.addAction(dock.toggleViewAction())
            self.docks[key] = dock
        self.tabifyDockWidget(self.docks["table"], self.docks["features"])
        self.docks["table"].raise_()
        self.setAcceptDrops(True)
        self._build_inference_menus()
        self._build_toolbar()
        state = self.settings.value("state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        font = self.panel.scene.font
        fm = QFontMetricsF(font)
        sample = "layer3.12.conv2 BatchNorm2d 1024×14×14"
        from ..graph.style import measure_text

        self.measure = functools.partial(
            measure_text, char_width=fm.horizontalAdvance(sample) / len(sample) * 1.12,
            line_height=14.0)
        self.core_loaded = True
        quiet_garbage_collection()
        responsive_threads()
        if count_sizes:
            self._count_sizes()

    def _build_status_bar(self) -> None:
        self.status_label = QLabel("")
        self.progress = QProgressBar(maximumWidth=180, maximum=100, visible=False)
        self.cancel_button = QPushButton("Cancel", visible=False)
        self.cancel_button.clicked.connect(self.cancel)
        bar = self.statusBar()
        bar.addWidget(self.status_label, 1)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "Open model file…", self.ask_model_file, QKeySequence.Open)
        self.recent_menu = file.addMenu("Open recent")
        self._refresh_recent()
        file.addSeparator()
        self._action(file, "Export diagram as PNG…", lambda: self.ask_export("png"),
                     "Ctrl+E")
        self._action(file, "Export diagram as SVG…", lambda: self.ask_export("svg"),
                     "Ctrl+Shift+E")
        self._action(file, "Export graph as DOT or JSON…", self.ask_export_graph)
        self._action(file, "Export table as CSV or Markdown…", self.ask_export_table)
        file.addSeparator()
        self._action(file, "Quit", self.close, QKeySequence.Quit)

        self.view_menu = view = bar.addMenu("&View")
        self._action(view, "Zoom in", lambda: self.panel.view.zoom_in(), QKeySequence.ZoomIn)
        self._action(view, "Zoom out", lambda: self.panel.view.zoom_out(), QKeySequence.ZoomOut)
        self._action(view, "Fit to window", lambda: self.panel.view.fit(), "Ctrl+0")
        view.addSeparator()
        self._action(view, "Expand all", self.expand_all, "Ctrl+Shift+Down")
        self._action(view, "Collapse all", self.collapse_all, "Ctrl+Shift+Up")
        self._action(view, "Toggle top-to-bottom / left-to-right", self.toggle_direction,
                     "Ctrl+L")
        self._action(view, "Find layer…", self.focus_search, QKeySequence.Find)
        theme = view.addMenu("Theme")
        group = QActionGroup(self)
        for name in ("system", "light", "dark"):
            action = QAction(name.capitalize(), self, checkable=True)
            action.setChecked(self.settings.value("theme", "system") == name)
            action.triggered.connect(functools.partial(self.set_theme, name))
            group.addAction(action)
            theme.addAction(action)
        view.addSeparator()

        model = bar.addMenu("&Model")
        self._action(model, "Rebuild", lambda: self.rebuild(), "F5")
        self._action(model, "Compare with…", self.ask_compare)
        self._action(model, "Lessons…", self.show_lessons)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "About", self.about)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Graph", self)
        bar.setObjectName("toolbar_graph")
        self.addToolBar(bar)
        bar.addWidget(QLabel(" depth "))
        self.depth_box = QSpinBox(minimum=1, maximum=12, toolTip="fold level of the module tree")
        self.depth_box.valueChanged.connect(self.set_depth)
        bar.addWidget(self.depth_box)
        for text, slot in (("Expand all", self.expand_all), ("Collapse all", self.collapse_all),
                           ("Fit", lambda: self.panel.view.fit()),
                           ("TB ⇄ LR", self.toggle_direction)):
            bar.addAction(text, slot)
        bar.addSeparator()
        self.search_box = QLineEdit(placeholderText="Find layer (Ctrl+F)", clearButtonEnabled=True)
        self.search_box.setMaximumWidth(220)
        self.search_box.returnPressed.connect(self.find_next)
        self.search_box.textChanged.connect(self._search_changed)
        bar.addWidget(self.search_box)
        bar.addAction("Next", self.find_next)
        self.search_count = QLabel("")
        bar.addWidget(self.search_count)

    # ---------------------------------------------------------------- model building
    def open_model(self, name: str, options: dict | None = None, input_shape=None,
                   spec=None) -> int:
        """Build, trace, count and lay out ``name`` off the UI thread."""
        from ..session import prepare

        options = dict(options or {})
        self.status_label.setText(f"Preparing {name}…")
        measure, direction = self.measure, self.direction
        job = functools.partial(self._prepare_job, prepare, name, options, input_shape, spec,
                                direction, measure)
        generation = self.runner.submit(job)
        self._busy(True)
        return generation

    @staticmethod
    def _prepare_job(prepare, name, options, input_shape, spec, direction, measure, progress):
        return ("model", prepare(name, options, input_shape, spec, direction, measure,
                                 check=progress.check))

    def rebuild(self, options: dict | None = None, input_shape=None) -> int | None:
        if self.prepared is None:
            return None
        p = self.prepared
        return self.open_model(p.name, p.options if options is None else options,
                               input_shape or p.input_shape)

    def _options_changed(self, options: dict, input_shape: tuple) -> None:
        self.rebuild(options, input_shape)

    def relayout(self, spec) -> int | None:
        """Fold or unfold: only fold + layout run (in the worker), the model stays."""
        if self.prepared is None:
            return None
        from ..analysis.summary import summarize
        from ..session import relayout

        graph, direction, measure = self.prepared.graph, self.direction, self.measure

        def job(progress):
            progress.check("laying out", 0.5)
            view, lay = relayout(graph, spec, direction, measure)
            return ("layout", spec, direction, (view, lay), summarize(graph, spec=spec))

        generation = self.runner.submit(job)
        self._busy(True)
        return generation

    def _finished(self, generation: int, result: Any, note: str) -> None:
        if not self.runner.is_current(generation):
            return  # superseded by a newer request: never show a stale graph
        self._busy(False)
        if result is None:
            self.status_label.setText(note or "")
            return
        kind = result[0]
        if kind == "model":
            p = result[1]
            changed = self.prepared is None or self.prepared.name != p.name
            self.prepared, self.spec, self.direction = p, p.spec, p.direction
            self._show(p.view, p.layout, fit=True)
            self.table_model.set_table(p.table)
            self.totals.setText(self.table_model.totals_text())
            if changed or self.options.info is None or self.options.info.name != p.name:
                self.options.show_model(p.info, p.options, p.input_shape)
            self.catalogue.select(p.name)
            self._update_title()
            self.settings.setValue("last_model", p.name)
            self.status_label.setText(
                f"{p.name}: {len(p.graph)} layers, {len(p.view)} shown "
                f"(depth {p.spec.depth or 'full'}), {p.table.total['params']:,} parameters")
        else:
            _, spec, direction, (view, lay), table = result
            self.spec, self.direction = spec, direction
            p = self.prepared
            p.spec, p.view, p.layout, p.table = spec, view, lay, table
            self._show(view, lay, fit=False)
            self.table_model.set_table(table)
            self.totals.setText(self.table_model.totals_text())
            self.status_label.setText(f"{len(view)} nodes shown")
        self.depth_box.blockSignals(True)
        self.depth_box.setMaximum(max(1, self.prepared.graph.max_depth))
        self.depth_box.setValue(self.spec.depth or self.prepared.graph.max_depth)
        self.depth_box.blockSignals(False)

        QTimer.singleShot(300, self._collect_when_idle)
        if kind == "model" and self.inference.image is not None:
            self.inference.run()  # the image goes through the new model at once
        self.shown.emit(self.prepared.name)

    def _update_title(self) -> None:
        if self.prepared is not None:
            self.setWindowTitle(f"{APP} — {self.prepared.name} "
                                f"({self.inference.weights_label})")

    def _collect_when_idle(self) -> None:
        if not self.progress.isVisible():
            collect_now()

    def _failed(self, generation: int, message: str) -> None:
        if generation != self.runner.generation:
            return
        self._busy(False)
        self.status_label.setText("Failed: " + message.splitlines()[-1][:200])
        QMessageBox.warning(self, APP, message)

    def _show(self, view, lay, fit: bool) -> None:
        self.panel.scene.show_layout(view, lay)
        if fit:
            self.panel.view.show_start()
        self.panel.overview.refit()

    def _progress(self, generation: int, stage: str, fraction: float) -> None:
        if self.runner.is_current(generation):
            self.progress.setValue(int(100 * fraction))
            self.status_label.setText(stage.capitalize() + "…")

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.setValue(0)

    def cancel(self) -> None:
        self.runner.cancel()
        self._busy(False)
        self.status_label.setText("Cancelled")

    # ---------------------------------------------------------------- folding and views
    def toggle_block(self, node_id: str) -> None:
        from ..graph.fold import FoldSpec, parent_block

        if self.prepared is None:
            return
        data = self.prepared.view.nx.nodes[node_id]
        spec = self.spec
        if data.get("folded"):
            expand = spec.expand | set(data.get("repeat_of") or [node_id])
            new = FoldSpec(spec.depth, frozenset(expand), spec.collapse - {node_id}, spec.repeats)
        else:
            parent = parent_block(node_id, self.prepared.graph, self.prepared.view)
            if not parent:
                return
            new = spec.toggled(node_id, parent)
        self.relayout(new)

    def set_depth(self, depth: int) -> None:
        from ..graph.fold import FoldSpec

        if self.prepared is not None and self.spec is not None and depth != self.spec.depth:
            self.relayout(FoldSpec(depth, repeats=self.spec.repeats))

    def expand_all(self) -> None:
        from ..graph.fold import FoldSpec

        self.relayout(FoldSpec())

    def collapse_all(self) -> None:
        from ..graph.fold import FoldSpec

        self.relayout(FoldSpec(depth=1))

    def toggle_direction(self) -> None:
        self.direction = "LR" if self.direction == "TB" else "TB"
        if self.spec is not None:
            self.relayout(self.spec)

    # ---------------------------------------------------------------- selection
    def select_node(self, node_id: str) -> None:
        if self.prepared is None or node_id not in self.prepared.view.nx:
            return
        row = None
        i = self.table_model.row_of(node_id)
        if i >= 0:
            row = self.table_model.rows[i]
            proxy_index = self.table_proxy.mapFromSource(self.table_model.index(i, 0))
            if proxy_index.isValid() and self.table_view.currentIndex().row() != proxy_index.row():
                self.table_view.selectRow(proxy_index.row())
        self.inspector.show_node(node_id, self.prepared.view.nx.nodes[node_id], row)
        self.selected_node = node_id
        self.inference.show_node(node_id)
        item = self.panel.scene.nodes.get(node_id)
        if item is not None and not item.isSelected():
            self.panel.scene.select_node(node_id)

    def _table_row_changed(self, current, _previous) -> None:
        if not current.isValid():
            return
        name = self.table_model.rows[self.table_proxy.mapToSource(current).row()].name
        if self.prepared is None:
            return
        if name not in self.prepared.view.nx:  # a layer inside a folded block: unfold to it
            return
        self.panel.scene.select_node(name)
        self.panel.view.center_on(name)

    # ---------------------------------------------------------------- search
    def focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    def _search_changed(self, text: str) -> None:
        self.search_hits = self.panel.scene.find(text)
        self.search_pos = -1
        self.search_count.setText(f" {len(self.search_hits)} found" if text else "")

    def find_next(self) -> str | None:
        if not self.search_hits:
            self._search_changed(self.search_box.text())
        if not self.search_hits:
            return None
        self.search_pos = (self.search_pos + 1) % len(self.search_hits)
        node = self.search_hits[self.search_pos]
        self.panel.scene.select_node(node)
        self.panel.view.center_on(node)
        self.search_count.setText(f" {self.search_pos + 1}/{len(self.search_hits)}")
        return node

    # ---------------------------------------------------------------- files
    def ask_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model file", "", "Python (*.py)")
        if path:
            self.open_model_file(path)

    def open_model_file(self, path: str, name: str | None = None,
                        input_shape: tuple | None = None) -> int | None:
        """Load the user's own model; errors are shown with the file's line."""
        from ..usermodel import UserModelError, candidates, load_module

        try:
            module = load_module(Path(path))
        except UserModelError as exc:
            self.status_label.setText(str(exc))
            QMessageBox.warning(self, APP, str(exc))
            return None
        names = candidates(module)
        if name is None:
            if not names:
                QMessageBox.warning(self, APP, f"{path} defines no nn.Module subclass or "
                                               "function.")
                return None
            name = names[0]
            if len(names) > 1:
                name, ok = QInputDialog.getItem(self, APP, "Model to open:", names, 0, False)
                if not ok:
                    return None
        if input_shape is None:
            text, ok = QInputDialog.getText(self, APP, "Input shape (N,C,H,W):",
                                            text="1,3,224,224")
            if not ok:
                return None
            try:
                input_shape = tuple(int(v) for v in text.split(","))
            except ValueError:
                QMessageBox.warning(self, APP, f"Not an input shape: {text!r}")
                return None
        self._add_recent(path)
        return self.open_model(f"{path}:{name}", {}, input_shape)

    def _add_recent(self, path: str) -> None:
        recent = [p for p in (self.settings.value("recent") or []) if p != path]
        self.settings.setValue("recent", [path] + recent[: MAX_RECENT - 1])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.value("recent") or []:
            self.recent_menu.addAction(path, functools.partial(self.open_model_file, path))

    def ask_export(self, fmt: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export diagram", f"diagram.{fmt}",
                                              f"{fmt.upper()} (*.{fmt})")
        if not path:
            return
        whole = QMessageBox.question(self, APP, "Export the whole graph?\n(No: only what the "
                                                "view shows)") == QMessageBox.Yes
        scale, transparent = 2.0, False
        if fmt == "png":
            scale, ok = QInputDialog.getDouble(self, APP, "Scale (pixels per unit):", 2.0, 0.25,
                                               8.0, 2)
            if not ok:
                return
            transparent = QMessageBox.question(self, APP, "Transparent background?") \
                == QMessageBox.Yes
        self.export_diagram(path, whole=whole, scale=scale, transparent=transparent)

    def export_diagram(self, path: str, whole: bool = True, scale: float = 2.0,
                       transparent: bool = False) -> None:
        from .exports import export_png, export_svg

        view = self.panel.view
        rect = None if whole else view.mapToScene(view.viewport().rect()).boundingRect()
        try:
            if path.lower().endswith(".svg"):
                export_svg(self.panel.scene, path, rect, title=self.windowTitle())
            else:
                export_png(self.panel.scene, path, rect, scale, transparent)
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, APP, f"Cannot export: {exc}")
            return
        self.status_label.setText(f"Exported {path}")

    def ask_export_graph(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export graph", "graph.json",
                                              "JSON (*.json);;DOT (*.dot)")
        if path and self.prepared is not None:
            from ..export.graph_export import write_graph

            write_graph(self.prepared.view, self.prepared.layout, path)
            self.status_label.setText(f"Exported {path}")

    def ask_export_table(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export table", "layers.csv",
                                              "CSV (*.csv);;Markdown (*.md)")
        if path and self.prepared is not None:
            from ..export.table_export import table_csv, table_markdown

            writer = table_markdown if path.endswith(".md") else table_csv
            Path(path).write_text(writer(self.prepared.table))
            self.status_label.setText(f"Exported {path}")

    # ---------------------------------------------------------------- images
    def _build_inference_menus(self) -> None:
        bar = self.menuBar()
        file = bar.actions()[0].menu()
        first = file.actions()[0]
        for text, slot, key in (("Open image…", self.ask_image, "Ctrl+I"),
                                ("Paste image", self.paste_image, QKeySequence.Paste),
                                ("Load weights…", self.ask_weights, "Ctrl+W")):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(slot)
            file.insertAction(first, action)
        export = file.addMenu("Export image results")
        for what in ("features", "overlay", "side-by-side"):
            export.addAction(f"{what.capitalize()} as PNG…",
                             functools.partial(self.ask_export_image, what))
        model = bar.actions()[2].menu()
        self._action(model, "Load demo weights", self.inference.load_demo)
        device = bar.addMenu("&Device")
        group = QActionGroup(self)
        from ..inference.devices import available_devices

        for name in available_devices():
            action = QAction(name.upper() if name == "cpu" else name, self, checkable=True)
            action.setChecked(name == str(self.inference.device) or
                              name == self.inference.device.type)
            action.triggered.connect(functools.partial(self.inference.set_device, name))
            group.addAction(action)
            device.addAction(action)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        data = event.mimeData()
        paths = [u.toLocalFile() for u in data.urls() if u.isLocalFile()]
        if paths:
            models = [p for p in paths if p.endswith(".py")]
            if models:
                self.open_model_file(models[0])
            images = [p for p in paths if not p.endswith(".py")]
            if images:
                self.inference.open_image(images[0])
        elif data.hasImage():
            self._set_qimage(data.imageData(), "dropped image")
        event.acceptProposedAction()

    def paste_image(self) -> None:
        clip = QApplication.clipboard()
        if clip.mimeData().hasUrls():
            paths = [u.toLocalFile() for u in clip.mimeData().urls() if u.isLocalFile()]
            if paths:
                self.inference.open_image(paths[0])
                return
        image = clip.image()
        if image.isNull():
            self.status_label.setText("The clipboard holds no image")
            return
        self._set_qimage(image, "pasted image")

    def _set_qimage(self, qimage, name: str) -> None:
        from PIL import Image

        from ..inference.imaging import to_rgb

        qimage = qimage.convertToFormat(qimage.Format.Format_RGBA8888)
        data = bytes(qimage.constBits())[: qimage.sizeInBytes()]
        img = Image.frombuffer("RGBA", (qimage.width(), qimage.height()), data, "raw",
                               "RGBA", qimage.bytesPerLine(), 1)
        self.inference.set_image(to_rgb(img), name)

    def ask_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open image", "", "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp "
            "*.gif);;All files (*)")
        if path:
            self.inference.open_image(path)

    def ask_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load weights", "",
                                              "Weights (*.pth *.pt *.safetensors)")
        if path:
            self.inference.load_weights(path)

    def ask_export_image(self, what: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Export {what}", f"{what}.png",
                                              "PNG (*.png)")
        if path and self.inference.export(what, path):
            self.status_label.setText(f"Exported {path}")

    # ---------------------------------------------------------------- compare and lessons
    def ask_compare(self) -> None:
        from .. import zoo
        from .compare_dialog import CompareDialog

        a = self.prepared.name if self.prepared else "resnet34_plain"
        CompareDialog(zoo.list_models(), a, "resnet34", self).exec()

    def show_lessons(self) -> None:
        from .compare_dialog import LessonsDialog

        LessonsDialog(self).exec()

    # ---------------------------------------------------------------- settings, theme, about
    def set_theme(self, name: str) -> None:
        self.settings.setValue("theme", name)
        apply_theme(name)

    def about(self) -> None:
        QMessageBox.about(self, f"About {APP}", about_text())

    def closeEvent(self, event) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        if self.core_loaded:
            self.runner.cancel()
            self.inference.runner.cancel()
            self.runner.pool.clear()  # queued background counts are not needed any more
            self.runner.wait(5000)
        super().closeEvent(event)

    def _count_sizes(self) -> None:
        """Parameter counts for the catalogue: small low-priority tasks (one model each,
        built on the meta device) that never delay a model the user asked for."""
        from .. import zoo

        self.runner.background_done.connect(lambda pair: self.catalogue.set_size(*pair))
        self.runner.background(_warm_up)
        for name in zoo.list_models():
            self.runner.background(functools.partial(_count_params, name))


def _warm_up() -> tuple[str, int]:
    """The process's first trace imports torch's meta kernels and the FLOP counter (GIL-
    heavy); doing it now, in the background, keeps it out of the first real request."""
    from ..session import prepare

    prepare("resnet18")
    return _count_params("resnet18")


def _count_params(name: str) -> tuple[str, int]:
    import torch

    from .. import zoo

    with torch.device("meta"):
        return name, sum(p.numel() for p in zoo.build(name).parameters())


def app_icon():
    from PySide6.QtGui import QIcon

    from ..assets import RESOURCES

    icon = QIcon(str(RESOURCES / "icons" / "architecture-explorer.svg"))
    for size in (16, 32, 48, 64, 128, 256):
        png = RESOURCES / "icons" / f"architecture-explorer-{size}.png"
        if png.exists():
            icon.addFile(str(png))
    return icon


def responsive_threads() -> None:
    """The UI thread takes the GIL back from a busy worker after at most this long
    (Python's default is 5 ms; each event-loop callback may wait that long)."""
    sys.setswitchinterval(0.002)


def quiet_garbage_collection() -> None:
    """Python's full collections stop every thread, the UI's included; one triggered by a
    worker building DenseNet-201's graph paused the event loop for 100-450 ms. So: freeze
    the start-up heap (torch, Qt), leave automatic collection to the young generations
    (bounded, a few ms), and run full collections ourselves when the UI is idle."""
    collect_now()
    first, second, _ = gc.get_threshold()
    gc.set_threshold(first, second, 1_000_000)


def collect_now() -> None:
    gc.collect()
    gc.freeze()  # survivors are long-lived; freed ones are still reclaimed by refcount


def about_text() -> str:
    import PySide6
    import torch

    from .. import __version__
    from ..inference.devices import available_devices

    return (f"<b>{APP}</b> {__version__}<br>Look inside convolutional networks.<br><br>"
            f"PyTorch {torch.__version__}<br>Qt {PySide6.QtCore.qVersion()} "
            f"(PySide6 {PySide6.__version__})<br>Python {platform.python_version()}<br>"
            f"Devices: {', '.join(available_devices())}")


def apply_theme(name: str) -> None:
    app = QApplication.instance()
    hints = app.styleHints()
    scheme = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}.get(
        name, Qt.ColorScheme.Unknown)
    if hasattr(hints, "setColorScheme"):
        hints.setColorScheme(scheme)

