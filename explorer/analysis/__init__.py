"""Per-layer tables, totals, model comparison and the lessons they check."""

from .compare import Comparison, compare
from .summary import LayerTable, Row, summarize

__all__ = ["Comparison", "LayerTable", "Row", "compare", "summarize"]
