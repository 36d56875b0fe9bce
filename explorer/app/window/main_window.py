"""The main window: docks around the graph, each a view of the one ViewState.

The window shows before torch is imported (a skeleton with "Loading PyTorch…"); then
``load_core()`` builds the state, the controllers and the docks. Widgets render the
state's events and send intents to the controllers; errors from any job or slot go
through ``show_error``, which leaves the state as it was."""

from __future__ import annotations

import functools

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
)

from ..actions import build_menus
from ..main import APP
from .compare_and_help import CompareAndHelpMixin
from .dock_setup import DockSetupMixin
from .exports import ExportsMixin
from .images import ImagesMixin
from .menus import MenusMixin
from .model_opening import ModelOpeningMixin
from .navigation import NavigationMixin
from .recent_files import RecentFilesMixin
from .weights import WeightsMixin


def first_size(widget) -> QSize:
    """1400x900, or less on a smaller screen: the title bar and frame stay on it (a
    1024x640 screen got a 1400x900 window, its right and bottom off the screen)."""
    screen = widget.screen()
    if screen is None:
        return QSize(1400, 900)
    room = screen.availableGeometry()
    return QSize(min(1400, room.width() - 16), min(900, room.height() - 48))


class MainWindow(ModelOpeningMixin, RecentFilesMixin, ImagesMixin, WeightsMixin, ExportsMixin,
                 MenusMixin, CompareAndHelpMixin, DockSetupMixin, NavigationMixin, QMainWindow):
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
        from ...viewstate import ViewState
        from ..controllers.inference import InferenceController
        from ..controllers.model import ModelController
        from ..docks.catalogue import Catalogue
        from ..docks.inspector import Inspector
        from ..docks.options_form import OptionsForm
        from ..docks.table_panel import TablePanel
        from ..graph.highlight import SearchHighlighter
        from ..graph.search_bar import SearchBar
        from ..graph.view import GraphPanel

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
        from ..training.controller import TrainingController

        self.training = TrainingController(self)  # Model ▸ Train…, its dock, the Draw panel
        from ..flow.controller import FlowController

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

        from ...graph.style import measure_text

        fm = QFontMetricsF(self.panel.scene.font)
        sample = "layer3.12.conv2 BatchNorm2d 1024×14×14"
        return functools.partial(
            measure_text, char_width=fm.horizontalAdvance(sample) / len(sample) * 1.12,
            line_height=14.0)

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
        from ... import zoo
        from ...usermodel import is_user_model
        from ..controllers.inference_weights import published_set

        p = self.state.model
        if p is not None and is_user_model(p.name):  # a person's model with its arguments
            return zoo.variant_name(p.name, p.options)
        if p is None or ":" in p.name or zoo.carries_weights(p.name):
            return p.name if p is not None else ""
        ws = published_set(p.name, self.state.weights)
        implied = ws.options if ws is not None else {}
        return zoo.variant_name(p.name, {k: v for k, v in p.options.items()
                                         if implied.get(k, object()) != v})

    def _busy(self, busy: bool) -> None:
        self.progress.setMaximum(100)
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.setValue(0)

    def _collect_when_idle(self) -> None:
        from ..main import collect_now

        if not self.progress.isVisible():
            collect_now()

    def show_error(self, exc: BaseException) -> None:
        """The one error path: a readable message; the state stays as it was."""
        from ..errors import describe

        message = describe(exc)
        self.status_label.setText(message.splitlines()[0][:200])
        QMessageBox.warning(self, APP, message)

    @property
    def prepared(self):
        return self.state.model if self.core_loaded else None

    @property
    def shown(self):
        return self.models.shown

    # ---------------------------------------------------------------- closing
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
