"""Flow from the window: the Flow dock's Measure runs one forward and backward pass of
the current model (its live weights if it has them, else a fresh build with the papers'
init) and of the second model picked, on the shared worker thread; the results go into
``ViewState.flow``, which the dock plots and the diagram can be coloured by."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget

from ..controllers.results import FlowReady
from ..controllers.workers import Runner
from .colouring import GradientLegend, colour_boxes
from .dock import FlowDock

FLOW_HEIGHT = 300  # px: a plot that reads, the graph keeping the larger part


def twin(name: str, names: list[str]) -> str | None:
    """The plain network of a residual one and back (resnet56_cifar ↔ resnet56_cifar_plain,
    resnet34 ↔ resnet34_plain), where the zoo has it."""
    other = name.removesuffix("_plain") if name.endswith("_plain") else f"{name}_plain"
    return other if other in names else None


class FlowController(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        from ... import zoo

        self.window, self.state = window, window.state
        self.names = zoo.list_models()
        self.runner = Runner(self, pool=window.runner.pool)  # the one worker thread
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(lambda _g, exc: self._failed(exc))
        self.panel = FlowDock(self.state, self.names)
        self.panel.measureRequested.connect(self.measure)
        self.panel.layerChosen.connect(window.reveal)
        self.panel.colourToggled.connect(lambda _on: self.recolour())
        self.dock = QDockWidget("Flow", window)
        self.dock.setObjectName("dock_flow")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.BottomDockWidgetArea, self.dock)
        window.tabifyDockWidget(window.docks["features"], self.dock)
        window.docks["flow"] = self.dock
        window.docks["table"].raise_()
        self.legend = GradientLegend(window.panel)
        window.panel.layout().addWidget(self.legend)
        self.state.events.flow.connect(lambda _flow: self.recolour())
        window.panel.scene.laidOut.connect(lambda _lay: self.recolour())
        self.state.events.model.connect(self._model_shown)
        self.pending: str | None = None  # an overlay to measure once a model is shown
        # the second model is the shown model's twin until a person picks one (was: the
        # first model's twin stayed for every model opened after it)
        self.picked = False
        self.panel.overlay.activated.connect(lambda _i: setattr(self, "picked", True))

    # ------------------------------------------------------------------ intents
    def measure(self, overlay: str | None = None, show: bool = True,
                known: tuple = ()) -> int | None:
        """Measure the current model and the overlay (the dock's choice by default); the
        dock comes to the front unless ``show`` is False (measured again for new weights).
        An overlay measured alike among ``known`` (earlier results) is not measured again:
        it is a fresh build, whatever the current model's weights."""
        from ...analysis.flow import flow, flow_zoo, random_batch

        p = self.state.model
        if p is None:
            return None
        key, live = self.state.key, self.state.live
        overlay = overlay if overlay is not None else self.panel.overlay_name()
        mode, batch = self.panel.mode.currentText(), self.panel.batch.value()
        shape = (batch, *p.input_shape[1:])
        self.panel.status.setText(f"measuring {p.name}" + (f" and {overlay}" if overlay
                                                          else "") + "…")
        if show:
            self.show_dock()

        def job(progress):
            progress.check(f"flow of {p.name}", 0.1)
            if live is not None and live.weights.trained:  # trained or loaded weights
                # (random ones are measured fresh, with the papers' init: was the live
                # zero_init_last build, whose residual branches get no gradient)
                module = live.module
                device = next(module.parameters()).device
                first = flow(module, random_batch(shape).to(device), name=p.name, mode=mode,
                             graph=p.graph)
            else:
                first = flow_zoo(p.name, shape, mode=mode, **p.options)
            results = [first]
            if overlay:
                from ... import zoo

                progress.check(f"flow of {overlay}", 0.55)
                size = zoo.input_shape(overlay)[1:]
                again = next((r for r in known if (r.model, r.mode, r.input_shape) ==
                              (overlay, mode, (batch, *size))), None)
                results.append(again or flow_zoo(overlay, (batch, *size), mode=mode))
            return FlowReady(key, tuple(results))

        return self.runner.submit(job)

    def open_pair(self, name: str, overlay: str, options: dict | None = None) -> None:
        """Show ``name`` and measure it with ``overlay`` on the same plot (a lesson)."""
        self.panel.set_overlay(overlay)
        self.picked = True
        self.show_dock()
        p = self.state.model
        if p is not None and p.name == name and p.options == (options or {}):
            self.measure(overlay)
            return
        self.pending = overlay
        self.window.open_model(name, options or None)

    def show_dock(self) -> None:
        """In front and tall enough for a plot (the bottom docks start short)."""
        self.dock.show()
        self.dock.raise_()
        if self.dock.height() < FLOW_HEIGHT and not self.dock.isFloating():
            self.window.resizeDocks([self.dock], [FLOW_HEIGHT], Qt.Vertical)

    def recolour(self) -> None:
        """The diagram's boxes by the current model's gradient, or back to their colours."""
        from ...analysis.flow import box_values

        flow, p = self.state.flow, self.state.model
        on = self.panel.colour.isChecked() and flow and p is not None
        values = box_values(flow[0], p.view) if on else None
        self.legend.show_scale(colour_boxes(self.window.panel.scene, values))

    # ------------------------------------------------------------------ results
    def _model_shown(self, p) -> None:
        if not self.picked or self.panel.overlay_name() in (None, p.name) or self.pending:
            self.panel.set_overlay(self.pending or twin(p.name, self.names))
            self.picked = bool(self.pending)  # a lesson's pair is a choice too
        if self.pending:
            self.pending = None
            self.measure()

    def _finished(self, generation: int, result, note: str) -> None:
        if not self.runner.is_current(generation):
            return
        match result:
            case FlowReady(key=key, results=results) if key == self.state.key:
                self.state.set_flow(results)
            case None:
                self.panel.status.setText(note or "cancelled")

    def _failed(self, exc: BaseException) -> None:
        self.panel.status.setText(f"could not measure: {exc}")
        self.window.show_error(exc)
