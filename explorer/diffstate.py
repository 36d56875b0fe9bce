"""What the compare window shows, held once and without Qt: two models, the fold both are
shown at, their structural diff, both diagrams aligned, and the difference selected.

The window's panes and list render this object and send it intents (select a
difference, unfold a block in either pane); ``prepare_diff`` and ``refold`` are the
worker's jobs.

    state = DiffState()
    state.show(prepare_diff("resnet34", "resnet34_plain"))
    state.select(0)                      # the first difference, in both panes
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .graph import FoldSpec, LayerGraph, fold
from .graph.diff import GraphDiff, NodeDiff, diff
from .graph.diff_layout import PairLayout, align_pair, revealing_spec, shared_spec
from .graph.fold import parent_block
from .graph.layout import layout
from .graph.style import measure_text
from .viewstate import Event

Check = Callable[[str, float], None]


@dataclass(frozen=True)
class DiffPrepared:
    """Two models compared at one fold: ``pair`` has both diagrams in their own
    coordinates (one pane each), matched nodes at the same height."""

    label_a: str
    label_b: str
    graph_a: LayerGraph
    graph_b: LayerGraph
    spec: FoldSpec
    diff: GraphDiff
    pair: PairLayout
    claim: str = ""  # a lesson's claim, shown above the panes


def parse_model(text: str) -> tuple[str, dict[str, str]]:
    """``NAME``, ``NAME:key=value,...``, a model file (``net.py:Class``, ``net.pt2``), or a
    model file with options: what follows the last colon is options when it has an =."""
    name, sep, rest = text.rpartition(":")
    if not sep or "=" not in rest:
        return text, {}
    options = {}
    for pair in rest.split(","):
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"options take key=value, not {pair!r} (in {text!r})")
        options[key.strip()] = value.strip()
    return name, options


def model_text(name: str, options: dict) -> str:
    """``name:key=value,...``: a model with its options (what ``parse_model`` reads)."""
    opts = ",".join(f"{k}={v}" for k, v in sorted(options.items()))
    return f"{name}:{opts}" if opts else name


def trace_model(text: str, input_shape: tuple[int, ...] | None = None) -> LayerGraph:
    """The full graph of ``NAME[:key=value,...]``; its ``model`` says which variant."""
    from .graph import trace_zoo

    name, options = parse_model(text)
    graph = trace_zoo(name, input_shape, **options)
    if options:
        graph.model = text
    return graph


def prepare_diff(a: str, b: str, spec: FoldSpec | None = None, measure=measure_text,
                 claim: str = "", check: Check = lambda stage, fraction: None) -> DiffPrepared:
    check(f"tracing {a}", 0.1)
    graph_a = trace_model(a)
    check(f"tracing {b}", 0.4)
    graph_b = trace_model(b)
    check("matching", 0.7)
    if spec is None:
        spec = revealing_spec(graph_a, graph_b, shared_spec(graph_a, graph_b))
    return refold(graph_a, graph_b, spec, measure, claim, (a, b))


def refold(graph_a: LayerGraph, graph_b: LayerGraph, spec: FoldSpec, measure=measure_text,
           claim: str = "", labels: tuple[str, str] | None = None) -> DiffPrepared:
    """Both graphs folded by ``spec``, matched, laid out as columns and aligned."""
    view_a, view_b = fold(graph_a, spec), fold(graph_b, spec)
    d = diff(view_a, view_b)
    lay_a = layout(view_a.nx, "TB", measure, arrangement="column")
    lay_b = layout(view_b.nx, "TB", measure, arrangement="column")
    labels = labels or (graph_a.model, graph_b.model)
    return DiffPrepared(labels[0], labels[1], graph_a, graph_b, spec, d,
                        align_pair(d, lay_a, lay_b, apart=False), claim)


def toggled_spec(p: DiffPrepared, side: str, node_id: str) -> FoldSpec | None:
    """The fold after a double-click on ``node_id`` in pane ``side``: a folded block
    unfolds, and so does its match in the other pane; a layer folds its block, and the
    match's block folds too. None when there is nothing to fold."""
    views = {"a": (p.diff.a, p.graph_a, p.diff.a_to_b, p.diff.b, p.graph_b),
             "b": (p.diff.b, p.graph_b, p.diff.b_to_a, p.diff.a, p.graph_a)}
    view, graph, match, other_view, other_graph = views[side]
    other = match.get(node_id)
    spec = p.spec
    if view.node(node_id).get("folded"):
        blocks = {view.node(node_id)["path"]}
        if other is not None and other_view.node(other).get("folded"):
            blocks.add(other_view.node(other)["path"])
        return FoldSpec(spec.depth, spec.expand | blocks, spec.collapse - blocks)
    parent = parent_block(node_id, graph, view)
    if parent is None:
        return None
    parents = {parent}
    if other is not None:
        other_parent = parent_block(other, other_graph, other_view)
        if other_parent is not None:
            parents.add(other_parent)
    return FoldSpec(spec.depth, spec.expand - parents, spec.collapse | parents)


def find(d: GraphDiff, text: str) -> list[NodeDiff]:
    """The rows of ``d`` whose layer in A or B has ``text`` in its id or operator."""
    t = text.strip().lower()
    if not t:
        return []

    def hit(view: LayerGraph, n: str | None) -> bool:
        return n is not None and (t in n.lower() or t in str(view.node(n)["op"]).lower())

    return [x for x in d.nodes if hit(d.a, x.a) or hit(d.b, x.b)]


@dataclass
class DiffEvents:
    shown: Event = field(default_factory=Event)  # a new comparison, or a new fold of it
    selection: Event = field(default_factory=Event)  # the NodeDiff selected, or None


class DiffState:
    """The compare window's one copy of what it shows."""

    def __init__(self) -> None:
        self.events = DiffEvents()
        self.prepared: DiffPrepared | None = None
        self.selection: NodeDiff | None = None
        self.search_text = ""
        self.hits: list[NodeDiff] = []

    def show(self, prepared: DiffPrepared) -> None:
        """A comparison (or a new fold of it): keeps the selection where both of its
        nodes are still drawn."""
        old = self.selection
        self.prepared = prepared
        self.selection = None
        self.search_text, self.hits = "", []
        self.events.shown.emit(prepared)
        if old is not None:
            again = [d for d in prepared.diff.nodes if (d.a, d.b) == (old.a, old.b)]
            if again:
                self.select_node(again[0])

    def differences(self) -> list[NodeDiff]:
        return self.prepared.diff.differences() if self.prepared else []

    def select(self, index: int) -> None:
        """The ``index``-th difference (the list beside the panes)."""
        diffs = self.differences()
        self.select_node(diffs[index] if 0 <= index < len(diffs) else None)

    def select_side(self, side: str, node_id: str) -> None:
        """A click on a node in pane ``side``: that node and its match."""
        if self.prepared is not None:
            self.select_node(self.prepared.diff.node_for(side, node_id))

    def find_next(self, text: str) -> NodeDiff | None:
        """The next row whose layer, in either model, has ``text`` in its name or
        operator (case-insensitive), selected; None when nothing has."""
        if self.prepared is None:
            return None
        if text != self.search_text:
            self.search_text = text
            self.hits = find(self.prepared.diff, text)
        if not self.hits:
            return None
        index = self.hits.index(self.selection) + 1 if self.selection in self.hits else 0
        self.select_node(self.hits[index % len(self.hits)])
        return self.selection

    def select_node(self, node: NodeDiff | None) -> None:
        if node != self.selection:
            self.selection = node
            self.events.selection.emit(node)
