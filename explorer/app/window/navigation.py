"""Moving about the graph: the toolbar (Back and Forward, depth, expand and collapse,
fit, direction, Find), zoom, folding a block, and revealing a layer anywhere in the
graph. Intents go to the model controller with the zoom to come back to. Mixed into
MainWindow."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSpinBox, QToolBar


class NavigationMixin:
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

    def _history_changed(self) -> None:
        self.back_action.setEnabled(bool(self.state.back))
        self.forward_action.setEnabled(bool(self.state.forward))

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
