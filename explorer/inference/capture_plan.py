"""Where a capture sees each node's tensor, decided once from the traced graph.

In order of preference, for each node asked for:
1. a leaf module's output (its forward hook);
2. a functional node's tensor as the input of a leaf module that consumes it (pre-hook);
3. as a container module's input or output, where the trace saw it there (``seen_at``: an
   SE block returns its ``mul``, a ShuffleNet unit its channel shuffle, a GoogLeNet
   ``BasicConv2d`` its functional ReLU, the model its final ``interpolate``);
4. computed again after the pass from its inputs' tensors (the trace's ``replay``: a join
   inside a block that only another functional op consumes, such as ShuffleNet's
   ``cat`` before the shuffle, or DenseNet's final ReLU and pooling), those inputs kept
   as helpers if not asked for;
5. otherwise the whole pass runs under the tracer's function mode (``recorded``).
Only 5 costs Python work for every op of the pass; 1-3 cost a hook call, 4 one extra op.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..graph.layergraph import LayerGraph
from ..graph.trace import Replay


class CaptureError(KeyError):
    """A requested node is not in the model's graph."""


@dataclass
class CapturePlan:
    # module path -> (call, "in" or "out", index among its flattened tensors, node)
    seen: dict[str, list[tuple[int, str, int, str]]] = field(default_factory=dict)
    # in call order: node, its op, and the node each of the op's inputs names
    replays: list[tuple[str, Replay, dict[str, str]]] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)  # kept for a replay, then dropped
    recorded: set[str] = field(default_factory=set)  # no hook sees them: the function mode
    copy: set[str] = field(default_factory=set)  # overwritten in place later: kept as a copy
    # node in ``copy`` -> the module path of each op that overwrites it (None: a function);
    # capture turns a module's ``inplace`` off for the pass instead of copying, if it can
    overwriters: dict[str, list[str | None]] = field(default_factory=dict)


_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # graph.nx -> {key: plan}
_PLANS_LOCK = threading.Lock()


def cached_plan(graph: LayerGraph, nodes: list[str]) -> CapturePlan:
    """``plan_capture``, planned once per graph and node list (a capture of every layer
    of a small model spent a tenth of its time planning). Plans are never changed after."""
    g = graph.nx
    key = (g.number_of_nodes(), tuple(nodes))
    with _PLANS_LOCK:
        plan = _PLANS.get(g, {}).get(key)
    if plan is None:
        plan = plan_capture(graph, nodes)
        with _PLANS_LOCK:
            plans = _PLANS.setdefault(g, {})
            if len(plans) > 8:  # node lists change as a person picks layers
                plans.clear()
            plans[key] = plan
    return plan


_EVERY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # graph.nx -> (size, nodes)


def every_node(graph: LayerGraph) -> tuple[str, ...]:
    """The graph's nodes but its input and output, listed once per graph."""
    g = graph.nx
    held = _EVERY.get(g)
    if held is None or held[0] != g.number_of_nodes():
        nodes = tuple(n for n, d in g.nodes(data=True) if d["kind"] not in ("input", "output"))
        held = _EVERY[g] = (g.number_of_nodes(), nodes)
    return held[1]


def _call_index(node_id: str) -> int:
    last = node_id.rsplit(".", 1)[-1]
    return int(last.rsplit(":", 1)[1]) if ":" in last else 0


def plan_capture(graph: LayerGraph, nodes: Iterable[str]) -> CapturePlan:
    """How to see ``nodes`` (see the module's docstring)."""
    g = graph.nx
    plan = CapturePlan()
    overwritten: dict[str, list[str | None]] = {}
    for _, d in g.nodes(data=True):
        if "inplace_of" in d:
            overwritten.setdefault(d["inplace_of"], []).append(
                d["path"] if d["kind"] == "module" else None)
    by_raw = {d.get("raw", n): n for n, d in g.nodes(data=True)}  # names before merging
    placed: set[str] = set()

    def hooked(n: str) -> tuple[str, int, str, int] | None:
        d = g.nodes[n]
        if d["kind"] == "module":
            return d["path"], _call_index(n), "out", 0
        for v in g.successors(n):  # a merged reshape chain's consumer sees the chain's end
            e = g.edges[n, v]
            if g.nodes[v]["kind"] == "module" and e.get("src_index", 0) == 0:
                return g.nodes[v]["path"], _call_index(v), "in", e["arg_index"]
        return d.get("seen_at")

    def place(n: str) -> bool:
        """Plan ``n`` by hook or replay; False when neither can give it."""
        if n in placed or g.nodes[n]["kind"] == "input":
            return True
        d = g.nodes[n]
        by = overwritten.get(n) or overwritten.get(d.get("raw", n), [])
        if by:
            plan.copy.add(n)
            plan.overwriters[n] = by
        where = hooked(n)
        if where is not None:
            plan.seen.setdefault(where[0], []).append((*where[1:], n))
            placed.add(n)
            return True
        replay = d.get("replay")
        if replay is None or d.get("raw", n) != n:
            return False
        names = {i: by_raw.get(i) for i in replay.inputs()}
        if None in names.values():
            return False
        for i in names.values():
            if i not in placed and g.nodes[i]["kind"] != "input":
                if not place(i):
                    return False
                plan.helpers.add(i)
        plan.replays.append((n, replay, names))
        placed.add(n)
        return True

    for n in nodes:
        if n not in g:
            raise CaptureError(f"no node {n!r} in the graph of {graph.model}")
        if g.nodes[n]["kind"] in ("input", "output"):
            continue
        plan.helpers.discard(n)  # asked for after all
        if not place(n):
            plan.recorded.add(n)
    order = {n: g.nodes[n]["order"] for n, _, _ in plan.replays}
    plan.replays.sort(key=lambda r: order[r[0]])
    return plan
