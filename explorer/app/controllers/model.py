"""Intents about the model and its view (open, rebuild, fold, unfold, direction, find,
back and forward) turned into jobs on the worker thread; their typed results go into
the ViewState. No widget here: the window and the views subscribe to the state."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Signal

from ...usermodel import is_user_model
from ...viewstate import Place, ViewState, revealing
from .model_file import probe_step
from .results import LayoutReady, ModelReady
from .workers import Progress, Runner


class ModelController(QObject):
    shown = Signal(str)  # a model or a new fold of it is on screen
    busy = Signal(bool)
    status = Signal(str)
    failed = Signal(object)  # the exception
    placeRestored = Signal(object)  # a Place from Back/Forward, for the view's zoom
    progressed = Signal(int)  # percent of the current job

    def __init__(self, state: ViewState, measure: Callable, pool=None, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.measure = measure
        self.runner = Runner(self, pool=pool)
        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)

    # ------------------------------------------------------------------ intents
    def open_model(self, name: str, options: dict | None = None, input_shape=None,
                   spec=None, first: Callable[[Progress], None] | None = None) -> int:
        """Build, trace, count and lay out ``name`` off the UI thread; ``first`` runs
        before, in the same job (a model file's probe)."""
        from ... import session

        options = dict(options or {})
        direction = self.state.model.direction if self.state.model else "TB"
        measure = self.measure

        def job(progress: Progress) -> ModelReady:
            if first is not None:
                first(progress)
            return ModelReady(session.prepare(name, options, input_shape, spec, direction,
                                              measure, check=progress.check))

        self.status.emit(f"Preparing {name}…")
        return self._submit(job)

    def rebuild(self, options: dict | None = None, input_shape=None) -> int | None:
        p = self.state.model
        if p is None:
            return None
        options = p.options if options is None else options
        shape = input_shape or p.input_shape
        first = None
        if is_user_model(p.name):  # the person's code with new arguments: probed again
            first = functools.partial(probe_step, p.name, shape, options=options)
        return self.open_model(p.name, options, shape, first=first)

    def relayout(self, spec=None, direction: str | None = None, select: str | None = None,
                 record: bool = True, zoom: Any = None,
                 restore: Place | None = None) -> int | None:
        """Fold, unfold or turn: only fold + layout + table run, the model stays."""
        p = self.state.model
        if p is None:
            return None
        from ...analysis.summary import summarize
        from ...session import relayout

        spec = spec if spec is not None else p.spec
        direction = direction or p.direction
        graph, measure, arrangement = p.graph, self.measure, self.state.arrangement
        came_from = self.state.place(zoom) if record else None
        selected = self.state.selection

        def job(progress: Progress) -> LayoutReady:
            progress.check("laying out", 0.5)
            view, lay = relayout(graph, spec, direction, measure, arrangement)
            return LayoutReady(spec, direction, view, lay, summarize(graph, spec=spec),
                               came_from, select, restore, selected)

        return self._submit(job)

    def toggle_block(self, node_id: str, zoom: Any = None) -> int | None:
        from ...graph.fold import parent_block

        p = self.state.model
        if p is None or node_id not in p.view.nx:
            return None
        data = p.view.nx.nodes[node_id]
        if data.get("folded"):
            opened = set(data.get("repeat_of") or [node_id])
            spec = replace(p.spec, expand=frozenset(p.spec.expand | opened),
                           collapse=frozenset(p.spec.collapse - {node_id}))
        else:
            parent = parent_block(node_id, p.graph, p.view)
            if not parent:
                return None
            spec = p.spec.toggled(node_id, parent)
        return self.relayout(spec, zoom=zoom)

    def set_depth(self, depth: int, zoom: Any = None) -> int | None:
        from ...graph.fold import FoldSpec

        p = self.state.model
        if p is None or depth == p.spec.depth:
            return None
        return self.relayout(FoldSpec(depth, repeats=p.spec.repeats), zoom=zoom)

    def expand_all(self, zoom: Any = None) -> int | None:
        from ...graph.fold import FoldSpec

        return self.relayout(FoldSpec(), zoom=zoom)

    def collapse_all(self, zoom: Any = None) -> int | None:
        from ...graph.fold import FoldSpec

        return self.relayout(FoldSpec(depth=1), zoom=zoom)

    def toggle_direction(self, zoom: Any = None) -> int | None:
        p = self.state.model
        if p is None:
            return None
        return self.relayout(direction="LR" if p.direction == "TB" else "TB", zoom=zoom)

    def reveal(self, node: str) -> int | None:
        """Select a layer of the whole graph, unfolding the blocks around it if needed."""
        p = self.state.model
        if p is None:
            return None
        run = [n for n, d in p.view.nx.nodes(data=True) if node in (d.get("repeat_of") or ())]
        if node in p.view.nx or run:  # a block in a run ×N is found as the run
            self.state.select(node if node in p.view.nx else run[0])
            return None
        if node not in p.graph.nx:  # a block Find matched by its type: show it folded
            spec = revealing(p.spec, node.split("."))
            spec = replace(spec, expand=spec.expand - {node}, collapse=spec.collapse | {node})
            return self.relayout(spec, select=node)
        return self.relayout(revealing(p.spec, p.graph.hierarchy(node)), select=node)

    def back(self, zoom: Any = None) -> bool:
        return self._go(self.state.step_back, zoom)

    def forward(self, zoom: Any = None) -> bool:
        return self._go(self.state.step_forward, zoom)

    def _go(self, step, zoom) -> bool:
        here = self.state.place(zoom)
        target = step(here) if here is not None else None
        if target is None:
            return False
        self.relayout(target.spec, target.direction, record=False, restore=target)
        return True

    def cancel(self) -> None:
        self.runner.cancel()
        self.busy.emit(False)
        self.status.emit("Cancelled")

    # ------------------------------------------------------------------ results
    def _submit(self, job) -> int:
        generation = self.runner.submit(job)
        self.busy.emit(True)
        return generation

    def _progress(self, generation: int, stage: str, fraction: float) -> None:
        if self.runner.is_current(generation):
            self.progressed.emit(int(100 * fraction))
            self.status.emit(stage.capitalize() + "…")

    def _finished(self, generation: int, result: Any, note: str) -> None:
        if not self.runner.is_current(generation):
            return  # superseded by a newer request: never show a stale graph
        self.busy.emit(False)
        match result:
            case None:
                self.status.emit(note or "")
                return
            case ModelReady(prepared=p):
                self.state.show_model(p)
                layers = len(p.graph) - len(p.graph.nodes("input")) - len(
                    p.graph.nodes("output"))  # as the table counts (was: 14 for LeNet-5's 12)
                self.status.emit(
                    f"{p.name}: {layers} layers, {len(p.view)} boxes shown "
                    f"(depth {p.spec.depth or 'full'}), {p.table.total['params']:,} "
                    "parameters")
            case LayoutReady():
                selected = self.state.selection  # before the new view may drop it
                self.state.show_view(result.spec, result.direction, result.view,
                                     result.layout, result.table, result.came_from)
                if result.select and selected == result.selected_before:
                    self.state.select(result.select)  # unless selected since (Next, Next)
                self.status.emit(f"{len(result.view)} nodes shown")
                if result.restore is not None:
                    self.placeRestored.emit(result.restore)
        self.shown.emit(self.state.model.name)

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self.runner.generation:
            return
        self.busy.emit(False)
        self.failed.emit(exc)
