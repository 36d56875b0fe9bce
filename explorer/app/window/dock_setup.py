"""The docks around the graph, built and shown: the graph keeps its room (see
docks/layout.py), the Layer and Image docks appear with their first content, View ▸
Reset layout plans them afresh, and the catalogue's parameter counts fill in behind.
Mixed into MainWindow."""

from __future__ import annotations

import functools

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtWidgets import QDockWidget


class DockSetupMixin:
    def _build_docks(self) -> None:
        """The graph gets the room (see docks/layout.py): side docks in one column, the
        bottom ones tabbed and short, Layer and Image only once they have content."""
        from ..docks.layout import ON_DEMAND, apply_plan, plan_for

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

    def _show_dock(self, key: str) -> None:
        """A dock with something new to show comes to the front (shown if it waited)."""
        from ..docks.layout import reveal

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
        from ..docks.layout import ON_DEMAND, apply_plan, plan_for

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
        from ..docks.layout import GRAPH_SHARE, apply_plan, graph_share, plan_for

        if not self.core_loaded:
            return
        self.layout().activate()  # a restored or resized layout, applied before measuring
        if graph_share(self) < GRAPH_SHARE:
            apply_plan(self, plan_for(self.width(), self.height()), self.dock_waiting)

    def reset_layout(self) -> None:
        """View ▸ Reset layout: every dock where a first launch puts it, sized for this
        window; the Layer and Image docks shown only when they have something to show."""
        from ..docks.layout import apply_plan, plan_for

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

    def _count_sizes(self) -> None:
        """Parameter counts for the catalogue: small low-priority tasks (one model each,
        built on the meta device) that never delay a model the person asked for."""
        from ... import zoo

        self.runner.background_done.connect(lambda pair: self.catalogue.set_size(*pair))
        self.runner.background(_warm_up)
        for name in zoo.list_models():
            self.runner.background(functools.partial(_count_params, name))


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


def _warm_up() -> tuple[str, int]:
    """The process's first trace imports torch's meta kernels and the FLOP counter (GIL-
    heavy); doing it now, in the background, keeps it out of the first real request."""
    from ...session import prepare

    prepare("resnet18")
    return _count_params("resnet18")


def _count_params(name: str) -> tuple[str, int]:
    import torch

    from ... import zoo

    with torch.device("meta"):
        return name, sum(p.numel() for p in zoo.build(name).parameters())
