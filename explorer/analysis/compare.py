"""Two models side by side: totals, their ratio, and per-stage figures.

Stages are grouped by output stride (the feature-map resolution), which every CNN shares,
so VGG-16 and ResNet-152 line up stage by stage even though their modules differ."""

from __future__ import annotations

from dataclasses import dataclass

from .summary import UNUSED_ROW, LayerTable

METRICS = ("params", "macs", "activation_bytes")


@dataclass
class Comparison:
    a: LayerTable
    b: LayerTable
    totals: dict[str, tuple[int, int, float]]  # metric: (a, b, b / a)
    stages: list[tuple[str, dict[str, int], dict[str, int]]]  # label, a figures, b figures

    def as_dict(self) -> dict:
        return {"a": self.a.model, "b": self.b.model,
                "totals": {k: {"a": a, "b": b, "ratio": r} for k, (a, b, r) in self.totals.items()},
                "stages": [{"stage": s, "a": fa, "b": fb} for s, fa, fb in self.stages]}


def stage_label(stride: float, side: int = 0) -> str:
    """"stride 8"; where the stride is the input's whole side (after a global pool) the
    stage is the head (was: "stride 224")."""
    if stride <= 0:
        return "unused"
    if side and stride >= side:
        return "head (after global pooling)"
    return f"stride {int(stride)}" if float(stride).is_integer() else f"stride {stride:g}"


def _by_stage(table: LayerTable) -> dict[float, dict[str, int]]:
    stages: dict[float, dict[str, int]] = {}
    for r in table.rows:
        if r.name == UNUSED_ROW:
            continue
        key = r.stride
        s = stages.setdefault(key, dict.fromkeys(METRICS, 0))
        s["params"] += r.params
        s["macs"] += r.macs
        s["activation_bytes"] += r.activation_bytes
    return stages


def compare(a: LayerTable, b: LayerTable) -> Comparison:
    totals = {}
    for m in METRICS:
        va, vb = a.total[m], b.total[m]
        totals[m] = (va, vb, vb / va if va else float("inf"))
    sa, sb = _by_stage(a), _by_stage(b)
    zero = dict.fromkeys(METRICS, 0)
    side = min(min(t.input_shape[2:]) for t in (a, b) if len(t.input_shape) > 2) if all(
        len(t.input_shape) > 2 for t in (a, b)) else 0
    stages = [(stage_label(k, side), sa.get(k, zero), sb.get(k, zero))
              for k in sorted(set(sa) | set(sb))]
    return Comparison(a, b, totals, stages)
