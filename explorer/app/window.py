"""The main window: docks around the graph, each a view of the one ViewState.

The window shows before torch is imported (a skeleton with "Loading PyTorch…"); then
``load_core()`` builds the state, the controllers and the docks. Widgets render the
state's events and send intents to the controllers; errors from any job or slot go
through ``show_error``, which leaves the state as it was."""

from __future__ import annotations

import functools

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QToolBar,
)

from .actions import build_menus
from .window_files import FilesMixin

APP = "Architecture Explorer"


def first_size(widget) -> QSize:
    """1400x900, or less on a smaller screen: the title bar and frame stay on it (a
    1024x640 screen got a 1400x900 window, its right and bottom off the screen)."""
    screen = widget.screen()
    if screen is None:
        return QSize(1400, 900)
    room = screen.availableGeometry()
    return QSize(min(1400, room.width() - 16), min(900, room.height() - 48))


class MainWindow(FilesMixin, QMainWindow):
    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings("ArchitectureExplorer", "explorer")
        self.setWindowTitle(f"{APP} — loading…")
        self.resize(first_size(self))
        self.core_loaded = False
        self.status_label = QLabel("Loading PyTorch…")
        self.progress = QProgressBar(maximumWidth=180, minimum=0, maximum=0)  # busy
        self.cancel_button = QPushButton("Cancel", visible=False)
        bar = self.statusBar()
        bar.addWidget(self.status_label, 1)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        self.setCentralWidget(QLabel("Loading PyTorch…", alignment=Qt.AlignCenter))
        self.menus = build_menus(self)  # greyed until the core has loaded
        self.menuBar().setEnabled(False)
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)

    # ---------------------------------------------------------------- construction
    def load_core(self, count_sizes: bool = True) -> None:
        """Import the core (torch) and build the docks; called right after the first show.
        ``count_sizes`` fills the catalogue's parameter column in the background."""
        if self.core_loaded:
            return
        from ..viewstate import ViewState
        from .controllers.inference import InferenceController
        from .controllers.model import ModelController
        from .docks.catalogue import Catalogue
        from .docks.inspector import Inspector
        from .docks.options_form import OptionsForm
        from .docks.table_panel import TablePanel
        from .graph.highlight import SearchHighlighter
        from .graph.search_bar import SearchBar
        from .graph.view import GraphPanel

        self.state = state = ViewState()
        self.panel = GraphPanel(self)
        self.models = ModelController(state, self._measure(), parent=self)
        self.runner = self.models.runner
        self.inference = InferenceController(state, self.runner.pool, self)
        self.catalogue = Catalogue(self)
        self.options = OptionsForm(self)
        self.inspector = Inspector(state, self.runner.pool, self)
        self.table = TablePanel(state, self)
        self.search = SearchBar(state, self)
        self.setCentralWidget(self.panel)
        self._build_docks()
        from .training.controller import TrainingController

        self.training = TrainingController(self)  # Model ▸ Train…, its dock, the Draw panel
        from .flow.controller import FlowController

        self.flow = FlowController(self)  # the Flow dock, the diagram coloured by gradient
        self._build_toolbar()
        self._fill_menus()
        self.menuBar().setEnabled(True)

        for controller in (self.models, self.inference):
            controller.status.connect(self.status_label.setText)
            controller.failed.connect(self.show_error)
        self.models.failed.connect(lambda _exc: self._show_options())  # the model's own
        self.models.busy.connect(self._busy)
        self.models.placeRestored.connect(self._restore_zoom)
        self.models.progressed.connect(self.progress.setValue)
        self.cancel_button.clicked.connect(self.models.cancel)
        self.panel.view.nodeSelected.connect(state.select)
        self.panel.view.nodeActivated.connect(self.toggle_block)
        self.catalogue.modelChosen.connect(lambda name: self.open_model(name))
        self.options.changed.connect(self._options_changed)
        self.table.rowChosen.connect(self.reveal)
        self.search.hitChosen.connect(self.reveal)
        state.events.model.connect(self._show_model)
        state.events.view.connect(self._show_view)
        self.highlighter = SearchHighlighter(state, self.panel.scene, self.table.model)
        state.events.selection.connect(self._show_selection)
        state.events.weights.connect(lambda _w: self._update_title())
        self.setAcceptDrops(True)
        state.events.selection.connect(self._show_layer_dock)
        saved = self.settings.value("state")
        QTimer.singleShot(0, functools.partial(
            self._settle_layout, saved if isinstance(saved, QByteArray) else None))
        self.core_loaded = True
        self._busy(False)
        self.status_label.setText("")
        if count_sizes:
            self._count_sizes()

    def _measure(self):
        from PySide6.QtGui import QFontMetricsF

        from ..graph.style import measure_text

        fm = QFontMetricsF(self.panel.scene.font)
        sample = "layer3.12.conv2 BatchNorm2d 1024×14×14"
        return functools.partial(
            measure_text, char_width=fm.horizontalAdvance(sample) / len(sample) * 1.12,
            line_height=14.0)

    def _build_docks(self) -> None:
        """The graph gets the room (see docks/layout.py): side docks in one column, the
        bottom ones tabbed and short, Layer and Image only once they have content."""
        from .docks.layout import ON_DEMAND, apply_plan, plan_for

        self.docks = {}
        for key, title, widget in (
                ("catalogue", "Models", self.catalogue), ("options", "Options", self.options),
                ("inspector", "Layer", self.inspector),
                ("image", "Image", self.inference.predictions),
                ("table", "Layer table", self.table),
                ("features", "Feature maps", self.inference.features)):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{key}")
            if key == "image":  # scrolls in a short dock rather than growing the window
                widget = _scrolling(widget)
            dock.setWidget(widget)
            self.addDockWidget(Qt.LeftDockWidgetArea, dock)
            self.docks[key] = dock
        self.dock_waiting = {key for key in ON_DEMAND if key in self.docks}
        apply_plan(self, plan_for(self.width(), self.height()), self.dock_waiting)
        self.room_timer = QTimer(self, singleShot=True, interval=150)
        self.room_timer.timeout.connect(self.keep_graph_room)
        self.inference.state.events.image.connect(
            lambda image, _name: image is not None and self._show_dock("image"))
        self.inference.ran.connect(self._show_feature_maps)
        self.inference.predictions.stepChosen.connect(self.take_next_step)

    def take_next_step(self, step: str) -> None:
        """A link of the untrained-weights banner: a related model, the demo, a file, the
        shipped trained weights."""
        if step.startswith("model:"):
            self.open_model(step.removeprefix("model:"))
        elif step == "demo":
            self.load_demo()
        elif step == "file":
            self.ask_weights()
        elif step == "trained":  # the weights shipped for it (LeNet-5 on the digits)
            self.training.load_trained_lenet()

    def _show_dock(self, key: str) -> None:
        """A dock with something new to show comes to the front (shown if it waited)."""
        from .docks.layout import reveal

        if key in self.dock_waiting:
            reveal(self, key, self.dock_waiting)
        elif not self.docks[key].isHidden():
            self.docks[key].raise_()

    def _show_feature_maps(self) -> None:
        """An image's maps come to the front, unless a person watches a run's curves: a
        copy shown after each epoch reruns the image, and the curves stay in front."""
        training = getattr(self, "training", None)
        if training is not None and training.log.running and \
                not training.dock.visibleRegion().isEmpty():
            return
        self.docks["features"].raise_()

    def _show_layer_dock(self, node: str | None) -> None:
        """A selection brings the Layer dock to the front (shown, the first time)."""
        if node is not None:
            self._show_dock("inspector")

    def _settle_layout(self, saved: QByteArray | None) -> None:
        """The saved dock layout, or the planned one, once the new docks have been laid
        out: restored or sized at once, the bottom docks took the graph's height (a
        96 px strip at each launch). The Layer and Image docks wait for content again,
        and a layout that leaves the graph less than half the window is planned afresh."""
        from .docks.layout import ON_DEMAND, apply_plan, plan_for

        self.dock_waiting = {key for key in ON_DEMAND if key in self.docks}
        if saved is None:
            apply_plan(self, plan_for(self.width(), self.height()), self.dock_waiting)
        else:
            self.restoreState(saved)
            for key in self.dock_waiting:
                self.docks[key].hide()
            self.docks["table"].raise_()  # not last session's feature maps, empty now
        QTimer.singleShot(0, self.keep_graph_room)

    def keep_graph_room(self) -> None:
        from .docks.layout import GRAPH_SHARE, apply_plan, graph_share, plan_for

        if not self.core_loaded:
            return
        self.layout().activate()  # a restored or resized layout, applied before measuring
        if graph_share(self) < GRAPH_SHARE:
            apply_plan(self, plan_for(self.width(), self.height()), self.dock_waiting)

    def reset_layout(self) -> None:
        """View ▸ Reset layout: every dock where a first launch puts it, sized for this
        window; the Layer and Image docks shown only when they have something to show."""
        from .docks.layout import apply_plan, plan_for

        self.dock_waiting = {key for key, empty in (
            ("inspector", self.state.selection is None),
            ("image", self.state.image is None),
            ("draw", self.docks.get("draw") is None or self.docks["draw"].isHidden()))
            if empty and key in self.docks}
        apply_plan(self, plan_for(self.width(), self.height()), self.dock_waiting)
        self.toolbar.show()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.core_loaded:
            self.room_timer.start()

    def _build_toolbar(self) -> None:
        bar = QToolBar("Graph toolbar", self)
        bar.setObjectName("toolbar_graph")
        self.addToolBar(bar)
        self.toolbar = bar  # View ▸ Panels can bring it back; Reset layout does
        self.back_action = bar.addAction("◀", self.go_back)
        self.back_action.setToolTip("Back (Alt+Left)")
        self.forward_action = bar.addAction("▶", self.go_forward)
        self.forward_action.setToolTip("Forward (Alt+Right)")
        self.state.events.history.connect(self._history_changed)
        self._history_changed()
        bar.addWidget(QLabel(" depth "))
        self.depth_box = QSpinBox(minimum=1, maximum=12, toolTip="fold level of the module tree")
        self.depth_box.valueChanged.connect(self.set_depth)
        bar.addWidget(self.depth_box)
        for text, slot in (("Expand all", self.expand_all), ("Collapse all", self.collapse_all),
                           ("Fit", self.fit), ("TB ⇄ LR", self.toggle_direction)):
            bar.addAction(text, slot)
        bar.addSeparator()
        bar.addWidget(self.search)

    # ---------------------------------------------------------------- rendering the state
    def _show_model(self, p) -> None:
        self.panel.scene.show_layout(p.view, p.layout)
        self.panel.view.show_start(idea=True)
        self.panel.overview.refit()
        self._show_options()
        shown = self.shown_name()
        self.catalogue.select(shown if shown in self.catalogue.items else p.name)
        self.inspector.clear()
        self._update_title()
        self._show_depth(p)
        if ".py:" not in p.name:  # a registered variant reopens as itself
            self.settings.setValue("last_model", shown if shown in self.catalogue.items
                                   else p.name)
        QTimer.singleShot(300, self._collect_when_idle)

    def _show_options(self) -> None:
        """The form shows the options of the model on screen: after it opens, and after
        a change that failed or was refused."""
        p = self.state.model
        if p is not None:
            self.options.show_model(p.info, p.options, p.input_shape)
            if any(o.guessed and o.name not in p.options for o in p.info.options):
                self.docks["options"].raise_()  # built with a guess: the form says so

    def _show_view(self, p) -> None:
        self.panel.scene.show_layout(p.view, p.layout)
        self.panel.overview.refit()
        self._show_depth(p)

    def _show_selection(self, node: str | None) -> None:
        p = self.state.model
        if node is None or p is None:
            self.panel.scene.clearSelection()
            self.inspector.clear()
            return
        self.panel.scene.select_node(node)  # selecting never moves the view
        i = self.table.model.row_of(node)
        row = self.table.model.rows[i] if i >= 0 else None
        self.inspector.show_node(node, p.view.nx.nodes[node], row)

    def _show_depth(self, p) -> None:
        self.depth_box.blockSignals(True)
        self.depth_box.setMaximum(max(1, p.graph.max_depth))
        self.depth_box.setValue(p.spec.depth or p.graph.max_depth)
        self.depth_box.blockSignals(False)

    def _update_title(self) -> None:
        p = self.state.model
        if p is not None and self.state.weights.in_file:
            # an ONNX model: the file's name, opset and producer; its weights are its own
            self.setWindowTitle(f"{APP} — {p.info.description}")
        elif p is not None:
            self.setWindowTitle(f"{APP} — {self.shown_name()} ({self.state.weights.label})")

    def shown_name(self) -> str:
        """The model on screen as its options make it: "resnet34_plain" for resnet34 with
        plain=True, "resnet34 with shortcut='A'" (was "resnet34" whatever the options);
        the options a published set of weights brings go without saying."""
        from .. import zoo
        from ..usermodel import is_user_model
        from .controllers.inference_weights import published_set

        p = self.state.model
        if p is not None and is_user_model(p.name):  # a person's model with its arguments
            return zoo.variant_name(p.name, p.options)
        if p is None or ":" in p.name or zoo.carries_weights(p.name):
            return p.name if p is not None else ""
        ws = published_set(p.name, self.state.weights)
        implied = ws.options if ws is not None else {}
        return zoo.variant_name(p.name, {k: v for k, v in p.options.items()
                                         if implied.get(k, object()) != v})

    def _history_changed(self) -> None:
        self.back_action.setEnabled(bool(self.state.back))
        self.forward_action.setEnabled(bool(self.state.forward))

    def _busy(self, busy: bool) -> None:
        self.progress.setMaximum(100)
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.setValue(0)

    def _collect_when_idle(self) -> None:
        from .main import collect_now

        if not self.progress.isVisible():
            collect_now()

    def show_error(self, exc: BaseException) -> None:
        """The one error path: a readable message; the state stays as it was."""
        from .errors import describe

        message = describe(exc)
        self.status_label.setText(message.splitlines()[0][:200])
        QMessageBox.warning(self, APP, message)

    # ---------------------------------------------------------------- intents: the model
    @property
    def prepared(self):
        return self.state.model if self.core_loaded else None

    @property
    def shown(self):
        return self.models.shown

    def open_model(self, name: str, options: dict | None = None, input_shape=None,
                   spec=None) -> int:
        return self.models.open_model(name, options, input_shape, spec)

    def rebuild(self) -> int | None:
        return self.models.rebuild()

    def _options_changed(self, options: dict, input_shape: tuple) -> None:
        if self.state.weights.trained and not self.state.weights.in_file:
            answer = QMessageBox.question(
                self, APP, f"The loaded weights ({self.state.weights.label}) do not fit "
                "the changed options. Rebuild with random weights?")
            if answer != QMessageBox.Yes:
                self._show_options()  # back to the model's
                return
        self.models.rebuild(options, input_shape)

    def cancel(self) -> None:
        self.models.cancel()

    # ---------------------------------------------------------------- intents: the view
    def _zoom(self):
        view = self.panel.view
        return (view.zoom, view.mapToScene(view.viewport().rect().center()))

    def _restore_zoom(self, place) -> None:
        if place.zoom is not None:
            zoom, centre = place.zoom
            self.panel.view.set_zoom(zoom / self.panel.view.zoom)
            self.panel.view.centerOn(centre)

    def toggle_block(self, node_id: str) -> None:
        self.models.toggle_block(node_id, zoom=self._zoom())

    def set_depth(self, depth: int) -> None:
        self.models.set_depth(depth, zoom=self._zoom())

    def expand_all(self) -> None:
        self._fit_next()
        self.models.expand_all(zoom=self._zoom())

    def collapse_all(self) -> None:
        self._fit_next()
        self.models.collapse_all(zoom=self._zoom())

    def toggle_direction(self) -> None:
        self._fit_next()
        self.models.toggle_direction(zoom=self._zoom())

    def toggle_arrangement(self) -> None:
        """Encoder and decoder side by side (skips straight across), or one column."""
        self.state.arrangement = "column" if self.state.arrangement != "column" else "u"
        self._fit_next()
        self.models.relayout(zoom=self._zoom())

    def _fit_next(self) -> None:
        """The next layout starts from the top of the graph, not the old scroll place."""
        def shown(_p) -> None:
            self.state.events.view.disconnect(shown)
            self.panel.view.show_start()

        self.state.events.view.connect(shown)

    def go_back(self) -> None:
        self.models.back(zoom=self._zoom())

    def go_forward(self) -> None:
        self.models.forward(zoom=self._zoom())

    def zoom_in(self) -> None:
        self.panel.view.zoom_in()

    def zoom_out(self) -> None:
        self.panel.view.zoom_out()

    def fit(self) -> None:
        self.panel.view.fit()

    def select_node(self, node_id: str) -> None:
        self.state.select(node_id)

    def reveal(self, node_id: str) -> None:
        """Select a layer or block anywhere in the graph and bring it into view: at once
        when it is drawn (or inside a run ×N, which is selected), else once the blocks
        around it are unfolded."""
        def centre(_p=None) -> None:
            selected = self.state.selection
            drawn = self.state.model.view.nx
            self.panel.view.center_on(selected if selected in drawn else node_id)

        if self.state.model is None:
            return
        if self.models.reveal(node_id) is None:
            centre()
            return

        def shown(_p) -> None:
            self.state.events.view.disconnect(shown)
            centre()
        self.state.events.view.connect(shown)

    def focus_search(self) -> None:
        self.search.focus()

    def find_next(self) -> str | None:
        return self.search.find_next()

    def closeEvent(self, event) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        if self.core_loaded:  # before, there are no docks: the saved layout is kept
            self.settings.setValue("state", self.saveState())
            self.runner.cancel()
            self.inference.runner.cancel()
            self.runner.pool.clear()  # queued background counts are not needed any more
            self.runner.wait(5000)
            self.training.cancel()
            self.weights_menu.cancel()  # a download stops and removes its partial file
            self.weights_menu.runner.wait(3000)
            for worker in (self.runner.pool, self.weights_menu.runner.pool,
                           self.training.runner.pool):
                worker.stop()  # idle threads end with the window
        super().closeEvent(event)


def _scrolling(widget):
    """``widget`` in a vertical scroll area: at 1024x640 the Image dock's content (banner,
    picture, top-5, Grad-CAM) grew the window past the screen's height."""
    from PySide6.QtWidgets import QFrame, QScrollArea

    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    return area
