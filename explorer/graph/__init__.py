"""Tracing into a typed layer graph, folding, layout."""

from .fold import FoldSpec, default_spec, fold
from .layergraph import EDGE_KINDS, LayerGraph
from .layout import Layout, layout
from .trace import TraceError, trace, trace_zoo

__all__ = ["EDGE_KINDS", "FoldSpec", "LayerGraph", "Layout", "TraceError", "default_spec",
           "fold", "layout", "trace", "trace_zoo"]
