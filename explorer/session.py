"""What the app shows for one model, computed off the UI thread (no Qt here): build on
the meta device, trace, count, fold and lay out. The GUI's workers call these
functions; so can a script."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from . import zoo
from .analysis.summary import LayerTable, summarize
from .graph import FoldSpec, LayerGraph, Layout, default_spec, fold, layout, trace
from .graph.style import measure_text

Check = Callable[[str, float], None]


@dataclass
class Prepared:
    name: str
    options: dict[str, Any]
    input_shape: tuple[int, ...]
    info: zoo.ModelInfo
    graph: LayerGraph
    table: LayerTable
    spec: FoldSpec
    view: LayerGraph
    layout: Layout
    direction: str


def prepare(name: str, options: dict[str, Any] | None = None,
            input_shape: tuple[int, ...] | None = None, spec: FoldSpec | None = None,
            direction: str = "TB", measure=measure_text,
            check: Check = lambda stage, fraction: None) -> Prepared:
    options = dict(options or {})
    check("building", 0.05)
    info = zoo.get_info(name)
    shape = tuple(input_shape) if input_shape else zoo.input_shape(name, **options)
    with torch.device("meta"):
        model = zoo.build(name, **options)
    check("tracing", 0.25)
    graph = trace(model, shape, name=name)
    spec = spec or default_spec(graph)
    check("counting", 0.6)
    table = summarize(graph, spec=spec)  # one row per node shown
    check("laying out", 0.75)
    view, lay = relayout(graph, spec, direction, measure)
    check("done", 1.0)
    return Prepared(name, options, shape, info, graph, table, spec, view, lay, direction)


def relayout(graph: LayerGraph, spec: FoldSpec, direction: str = "TB",
             measure=measure_text, arrangement: str = "auto") -> tuple[LayerGraph, Layout]:
    """``arrangement``: "auto" (encoder-decoder U where the view has skip or index
    links), "column" or "u"; see ``explorer.graph.layout``."""
    view = fold(graph, spec)
    return view, layout(view.nx, direction=direction, measure=measure,
                        arrangement=arrangement)
