"""Edge kinds from the traced structure alone (never from model names).

- ``residual``: the short input of an ``add`` whose two inputs fork from one tensor; the
  edge's ``projection`` says whether the shortcut path has parameters.
- ``skip``: a long-range join (``cat`` or ``add``) whose other path goes down and back up
  in resolution (an upsampling op lies between): U-Net, FCN score fusion.
- ``concat``: an input of a ``cat`` that also feeds another of its inputs (dense reuse).
  A part of a tensor (a channel slice ``x[:, :16]``, ``narrow``, or one output of
  ``chunk``/``split``) is not reuse: halves joined again are branches (ShuffleNet v2).
- ``branch``: parallel paths from a fan-out to the ``cat`` that joins them (inception).
- ``index``: integer max-pool indices flowing to an unpool (SegNet, DeconvNet).
- ``gate``: the input of a ``mul`` that rescales the other input, computed from the same
  tensor squeezed to 1×1 in space (squeeze-and-excitation's sigmoid gate).

Reachability uses bitsets (Python ints) in call order, so DenseNet-201's thousands of
concat edges classify in milliseconds. Structured edges keep ``lo``/``hi``: the call-order
interval their structure spans, which folding uses to decide whether it is still visible.
"""

from __future__ import annotations

import networkx as nx

from .layergraph import KIND_PRIORITY

UPSAMPLE_OPS = {"ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Upsample",
                "UpsamplingBilinear2d", "UpsamplingNearest2d", "interpolate", "upsample",
                "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "max_unpool1d", "max_unpool2d",
                "max_unpool3d", "PixelShuffle", "pixel_shuffle"}
UNPOOL_OPS = {"MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "max_unpool1d", "max_unpool2d",
              "max_unpool3d"}
ADD_OPS = {"add"}
MUL_OPS = {"mul"}
CAT_OPS = {"cat", "stack"}
# Single-input ops that only select or pass values along: a skip is traced back through them.
TRANSPARENT_OPS = {"Crop", "CenterCrop", "getitem", "Identity", "pad", "clone", "contiguous",
                   "view", "reshape", "narrow"}
# Ops whose outputs are disjoint parts of their input.
SPLIT_OPS = {"chunk", "split", "split_with_sizes", "tensor_split", "unbind"}
SLICE_OPS = {"getitem", "narrow"}
INT_DTYPES = {"int64", "int32", "long", "int"}


def is_channel_slice(data: dict) -> bool:
    """A slice that keeps part of the channels (``x[:, :16]``): it hands on a part, where
    a spatial crop (U-Net's ``x[:, :, 4:-4, 4:-4]``) hands on the same feature maps."""
    ins, out = data.get("in_shapes") or [()], data.get("out_shape") or ()
    return (data["op"] in SLICE_OPS and len(ins[0]) >= 2 and len(out) >= 2
            and ins[0][1] != out[1])


class _Reach:
    """Ancestor and descendant bitsets over nodes indexed in call order."""

    def __init__(self, g: nx.DiGraph) -> None:
        self.order = sorted(g.nodes, key=lambda n: g.nodes[n]["order"])
        self.idx = {n: i for i, n in enumerate(self.order)}
        self.anc: dict[str, int] = {}
        for n in self.order:
            bits = 0
            for u in g.predecessors(n):
                bits |= self.anc[u] | (1 << self.idx[u])
            self.anc[n] = bits
        self.desc: dict[str, int] = {}
        for n in reversed(self.order):
            bits = 0
            for v in g.successors(n):
                bits |= self.desc[v] | (1 << self.idx[v])
            self.desc[n] = bits
        self.upsample = self.mask(g, lambda d: d["op"] in UPSAMPLE_OPS)
        self.params = self.mask(g, lambda d: d.get("params", 0) > 0)

    def mask(self, g: nx.DiGraph, pred) -> int:
        bits = 0
        for n, d in g.nodes(data=True):
            if pred(d):
                bits |= 1 << self.idx[n]
        return bits

    def bit(self, n: str) -> int:
        return 1 << self.idx[n]

    def upto(self, n: str) -> int:
        """n and its ancestors."""
        return self.anc[n] | self.bit(n)

    def latest(self, bits: int) -> str:
        return self.order[bits.bit_length() - 1]


def _mark(g: nx.DiGraph, u: str, v: str, kind: str, lo: int, hi: int, **extra) -> None:
    data = g.edges[u, v]
    if KIND_PRIORITY[kind] > KIND_PRIORITY[data["kind"]]:
        data.update(kind=kind, lo=lo, hi=hi, **extra)


def _source(g: nx.DiGraph, pred: str, join: str) -> tuple[str, str]:
    """Walk back from ``pred`` through transparent single-input nodes: (source, next)."""
    nxt, node = join, pred
    while (g.nodes[node]["op"] in TRANSPARENT_OPS and g.in_degree(node) == 1
           and g.nodes[node]["kind"] != "input" and not is_channel_slice(g.nodes[node])):
        nxt, node = node, next(iter(g.predecessors(node)))
    return node, nxt


def _classify_add(g: nx.DiGraph, r: _Reach, join: str, preds: list[str]) -> None:
    a, b = preds
    common = r.upto(a) & r.upto(b)
    if not common:
        return
    fork = r.latest(common)
    before = r.upto(fork)
    side_a, side_b = r.upto(a) & ~before, r.upto(b) & ~before
    if side_a.bit_count() == side_b.bit_count():
        return  # two equal paths: a merge, not a shortcut
    short, (short_side, long_side) = (a, (side_a, side_b)) if (
        side_a.bit_count() < side_b.bit_count()) else (b, (side_b, side_a))
    lo, hi = g.nodes[fork]["order"], g.nodes[join]["order"]
    if long_side & r.upsample:
        _mark(g, short, join, "skip", lo, hi)
    else:
        # a shortcut with layers but no parameters pads and strides (ResNet option A)
        _mark(g, short, join, "residual", lo, hi, projection=bool(short_side & r.params),
              padded=bool(short_side) and not short_side & r.params)


def _classify_mul(g: nx.DiGraph, r: _Reach, join: str, preds: list[str]) -> None:
    common = r.upto(preds[0]) & r.upto(preds[1])
    if not common:
        return
    fork = r.latest(common)
    for p in preds:
        shape = g.edges[p, join]["shape"]
        if p != fork and len(shape) >= 3 and all(s == 1 for s in shape[2:]):
            _mark(g, p, join, "gate", g.nodes[fork]["order"], g.nodes[join]["order"])


def _shared_whole(g: nx.DiGraph, r: _Reach, s: str, nxt: str, join: str) -> bool:
    """Whether the output of ``s`` that goes to ``nxt`` also takes another way to
    ``join``: always for one tensor, for a split only when the same part does."""
    if g.nodes[s]["op"] not in SPLIT_OPS:
        return True
    part = g.edges[s, nxt].get("src_index", 0)
    return any(v != nxt and r.desc[v] & r.bit(join) and g.edges[s, v].get("src_index", 0) == part
               for v in g.successors(s))


def _classify_cat(g: nx.DiGraph, r: _Reach, join: str, preds: list[str]) -> None:
    sources = [_source(g, p, join) for p in preds]
    hi = g.nodes[join]["order"]
    reused = False
    for i, (s, nxt) in enumerate(sources):
        if not any(j != i and r.anc[t] & r.bit(s) for j, (t, _) in enumerate(sources)):
            continue
        if not _shared_whole(g, r, s, nxt, join):
            continue  # one half of a split joined with the other half's branch
        reused = True
        between = r.desc[s] & r.anc[join]
        kind = "skip" if between & r.upsample else "concat"
        _mark(g, s, nxt, kind, g.nodes[s]["order"], hi)
    if reused or len(preds) < 2:
        return
    common = -1
    for s, _ in sources:
        common &= r.upto(s)
    if common <= 0:
        return
    fork = r.latest(common)
    lo = g.nodes[fork]["order"]
    inside = 0
    for s, _ in sources:
        inside |= r.upto(s)
    for p in preds:
        _mark(g, p, join, "branch", lo, hi)
    for v in g.successors(fork):
        if not (inside & r.bit(v) and r.desc[v] & r.bit(join)):
            continue
        if is_channel_slice(g.nodes[v]):  # slices of the fork are where its branches start
            for w in g.successors(v):     # (as the outputs of a chunk: ONNX's Slice pairs)
                if (inside | r.bit(join)) & r.bit(w):
                    _mark(g, v, w, "branch", lo, hi)
        else:
            _mark(g, fork, v, "branch", lo, hi)


def classify_edges(g: nx.DiGraph) -> None:
    for _, _, data in g.edges(data=True):
        data["kind"] = "data"
    r = _Reach(g)
    for node in r.order:
        d = g.nodes[node]
        preds = sorted(g.predecessors(node), key=lambda n: g.nodes[n]["order"])
        if d["op"] in ADD_OPS and len(preds) == 2:
            _classify_add(g, r, node, preds)
        elif d["op"] in MUL_OPS and len(preds) == 2:
            _classify_mul(g, r, node, preds)
        elif d["op"] in CAT_OPS and len(preds) >= 2:
            _classify_cat(g, r, node, preds)
        if d["op"] in UNPOOL_OPS:
            for u in preds:
                edge = g.edges[u, node]
                if edge["dtype"] in INT_DTYPES:  # SegNet's bottleneck: values and indices
                    values = any(t not in INT_DTYPES for t in edge.get("dtypes", ()))
                    _mark(g, u, node, "index", g.nodes[u]["order"], d["order"],
                          with_data=values)
