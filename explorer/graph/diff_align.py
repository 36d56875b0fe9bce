"""How the layers of two graphs are matched: one alignment of the two call orders that
maximises a likeness score (graph.diff then says what differs in each pair)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from .layergraph import LayerGraph
from .style import category

WEIGHTED = ("conv", "linear", "upsample")


def align(a: LayerGraph, order_a: list[str], b: LayerGraph, order_b: list[str]
          ) -> dict[str, str]:
    """Node of A -> its match in B, pairs increasing in both call orders."""
    return {order_a[i]: order_b[j]
            for i, j in _align(_features(a, order_a), _features(b, order_b))}


# --- matching ------------------------------------------------------------------------
# One alignment of the two call orders that maximises a likeness score. An agreeing
# module path is a bonus, not a rule: VGG's ``features.19`` is a different layer in
# VGG-16 and VGG-19, and U-Net's ``enc2.pool`` is SegNet's ``enc1.pool``, while ResNet-50
# v1 and v1.5 agree name for name. Likeness compares what a layer is (operator,
# category), what it holds (parameters) and where it sits (exact shapes, and the scale
# and width of its output, which survive a different input size). The dynamic programme
# runs on numpy rows, so DenseNet-201 against DenseNet-169 fully expanded (713 x 601
# layers) takes a small fraction of a second.

NAME_BONUS = 2
_MAX_CELLS = 4_000_000  # above this, difflib's runs of equal layers split the problem


_FLAGS = ("weighted", "io", "folded")


@dataclass
class _Features:
    """Per node of one graph, codes that compare equal exactly where the nodes agree."""

    names: list[str]
    codes: dict[str, np.ndarray]


def _cat(d: dict) -> str:
    return "block" if d.get("folded") else category(d)


def _scale(g: LayerGraph, d: dict) -> int:
    """log2 of how much smaller than the input the node's output is (-99 where not a map)."""
    shape, inp = tuple(d.get("out_shape", ())), g.input_shape
    if len(shape) != 4 or len(inp) != 4 or not shape[2]:
        return -99
    return round(math.log2(max(inp[2], 1) / shape[2]))


def _features(g: LayerGraph, order: list[str]) -> _Features:
    rows = []
    for n in order:
        d = g.node(n)
        cat = _cat(d)
        io = d["kind"] in ("input", "output")
        shape = tuple(d.get("out_shape", ()))
        rows.append({
            "name": n, "op": d["kind"] if io else d["op"], "cat": d["kind"] if io else cat,
            "out": shape, "in": tuple(tuple(s) for s in d.get("in_shapes", ())),
            "params": d.get("params", 0), "scale": _scale(g, d),
            "width": shape[1] if len(shape) > 1 else -1,
            "weighted": cat in WEIGHTED + ("block",), "io": io,
            "folded": bool(d.get("folded"))})
    codes = {}
    for key in ("name", "op", "cat", "out", "in", "params", "scale", "width", "weighted", "io",
                "folded"):
        codes[key] = [r[key] for r in rows]
    return _Features(order, codes)


def _encode(fa: _Features, fb: _Features) -> tuple[dict, dict]:
    """Both graphs' features as integer arrays over one shared vocabulary per key."""
    ca, cb = {}, {}
    for key in fa.codes:
        if key in _FLAGS:  # kept as they are: the scores read them as booleans
            ca[key], cb[key] = np.array(fa.codes[key], bool), np.array(fb.codes[key], bool)
            continue
        vocab: dict = {}
        ca[key] = np.array([vocab.setdefault(v, len(vocab)) for v in fa.codes[key]])
        cb[key] = np.array([vocab.setdefault(v, len(vocab)) for v in fb.codes[key]])
    return ca, cb


def _scores(ca: dict, cb: dict) -> np.ndarray:
    """How alike every node of A is to every node of B (0: never pair them)."""
    def same(key: str) -> np.ndarray:
        return ca[key][:, None] == cb[key][None, :]

    io_a, io_b = ca["io"][:, None], cb["io"][None, :]
    same_op, same_cat = same("op"), same("cat")
    compatible = (same_op | same_cat) & ~(io_a ^ io_b)
    compatible &= ~(io_a & io_b) | same_cat
    where = (2 * same("out") + 2 * same("in") + same("params") + 2 * same("scale")
             + same("width") + NAME_BONUS * same("name"))
    alike = 4 + same_op + where
    # a folded block against the layer the other shows
    weak = ca["weighted"][:, None] & cb["weighted"][None, :] & same("scale")
    # one module path, a layer in one model and a block in the other (ResNet's shortcut:
    # zero padding in option A, a 1x1 conv with its BN in option B)
    folded = ca["folded"][:, None] | cb["folded"][None, :]
    renamed = same("name") & folded & ~(io_a | io_b)
    return np.where(compatible, alike,
                    np.where(renamed, 3 + NAME_BONUS,
                             np.where(weak, 1 + NAME_BONUS * same("name"), 0)))


def _align(fa: _Features, fb: _Features) -> list[tuple[int, int]]:
    n, m = len(fa.names), len(fb.names)
    if not n or not m:
        return []
    if n * m > _MAX_CELLS:
        return _split_align(fa, fb)
    ca, cb = _encode(fa, fb)
    return _best_alignment(_scores(ca, cb))


def _split_align(fa: _Features, fb: _Features) -> list[tuple[int, int]]:
    """Very long orders: difflib's runs of identical layers first, then the programme on
    what lies between them."""
    la = list(zip(*(fa.codes[k] for k in ("name", "op", "out", "params"))))
    lb = list(zip(*(fb.codes[k] for k in ("name", "op", "out", "params"))))
    out: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, la, lb, autojunk=False).get_opcodes():
        if tag == "equal":
            out.extend(zip(range(i1, i2), range(j1, j2)))
        elif i2 > i1 and j2 > j1:
            sub_a = _Features(fa.names[i1:i2], {k: v[i1:i2] for k, v in fa.codes.items()})
            sub_b = _Features(fb.names[j1:j2], {k: v[j1:j2] for k, v in fb.codes.items()})
            if (i2 - i1) * (j2 - j1) > _MAX_CELLS:  # nothing alike to split on: in order
                out.extend((i1 + k, j1 + k) for k in range(min(i2 - i1, j2 - j1)))
                continue
            ca, cb = _encode(sub_a, sub_b)
            out.extend((i1 + i, j1 + j) for i, j in _best_alignment(_scores(ca, cb)))
    return out


def _best_alignment(score: np.ndarray) -> list[tuple[int, int]]:
    """Index pairs, increasing in both, that maximise the summed score (gaps cost 0).
    best[i, j] is the best total of A[i:] against B[j:]; a row is a suffix maximum."""
    n, m = score.shape
    best = np.zeros((n + 1, m + 1), dtype=np.int64)
    for i in range(n - 1, -1, -1):
        below = best[i + 1]
        take = np.where(score[i] > 0, score[i] + below[1:], 0)
        best[i, :m] = np.maximum.accumulate(np.maximum(take, below[:m])[::-1])[::-1]
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        s = score[i, j]
        if s and best[i, j] == s + best[i + 1, j + 1]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i, j] == best[i + 1, j]:
            i += 1
        else:
            j += 1
    return pairs
