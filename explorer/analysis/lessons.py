"""Lessons: the checkable claims of the architecture notes, kept as data.

``resources/lessons.json`` holds each claim, the models or layer stacks that show it, the
metrics to compute, and the expected figures. ``evaluate`` computes the figures with the
same ``summarize`` every table uses and says whether the claim holds.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..assets import resource

if TYPE_CHECKING:  # torch loads when a lesson is evaluated: listing them needs none
    from torch import nn

_DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int64": 8,
                "int32": 4, "uint8": 1, "bool": 1}


@dataclass
class Lesson:
    id: str
    title: str
    claim: str
    models: list[dict[str, Any]]
    expect: dict[str, dict[str, Any]]
    input: list[int] | None = None


@dataclass
class Result:
    lesson: Lesson
    labels: list[str]
    figures: dict[str, list[float]]  # metric: one value per model
    checks: list[tuple[str, bool, str]]  # (metric, holds, explanation)

    @property
    def holds(self) -> bool:
        return all(ok for _, ok, _ in self.checks)


def load_lessons() -> list[Lesson]:
    data = json.loads(resource("lessons.json").read_text())
    return [Lesson(**item) for item in data]


def get_lesson(lesson_id: str) -> Lesson:
    lessons = load_lessons()
    for lesson in lessons:
        if lesson.id == lesson_id:
            return lesson
    raise KeyError(f"no lesson {lesson_id!r}; lessons are: "
                   + ", ".join(item.id for item in lessons))


def build_layers(spec: list[list]) -> nn.Sequential:
    """A small stack from a list like [["conv", 64, 64, 3], ["relu"], ["dwconv", 64, 3]]."""
    from torch import nn

    layers: list[nn.Module] = []
    for item in spec:
        kind, *args = item
        if kind == "conv":
            c_in, c_out, k, *rest = args
            stride = rest[0] if rest else 1
            layers.append(nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False))
        elif kind == "dwconv":
            c, k = args
            layers.append(nn.Conv2d(c, c, k, 1, k // 2, groups=c, bias=False))
        elif kind == "relu":
            layers.append(nn.ReLU())
        elif kind == "bn":
            layers.append(nn.BatchNorm2d(args[0]))
        else:
            raise ValueError(f"unknown layer kind {kind!r} in a lesson")
    return nn.Sequential(*layers)


def _graph(model_spec: dict, lesson: Lesson):
    import torch

    from ..graph.trace import trace, trace_zoo

    shape = model_spec.get("input") or lesson.input
    if "zoo" in model_spec:
        return trace_zoo(model_spec["zoo"], tuple(shape) if shape else None,
                         **model_spec.get("options", {}))
    with torch.device("meta"):
        stack = build_layers(model_spec["layers"])
    return trace(stack, tuple(shape), name=model_spec["label"])


def _metric(name: str, graph, table) -> float:
    if name in ("params", "macs", "flops", "activation_bytes", "trainable_params"):
        return table.total[name]
    if name == "receptive_field":
        return max(r.receptive_field for r in table.rows)
    if name == "decoder_memory":  # bytes the decoder keeps from the encoder
        total = 0
        for _, _, d in graph.nx.edges(data=True):
            if d["kind"] in ("skip", "index"):
                n = 1
                for s in d["shape"]:
                    n *= s
                total += n * _DTYPE_BYTES.get(d["dtype"], 4)
        return total
    raise ValueError(f"unknown lesson metric {name!r}")


# Flow metrics: one backward pass at the lesson's input (explorer.analysis.flow)
FLOW_METRICS = {"grad_first_over_last": "gradient RMS, first conv / last conv"}


@functools.lru_cache(maxsize=16)
def _flow_figure(zoo_name: str, options: tuple, shape: tuple) -> float:
    from .flow import flow_zoo

    return flow_zoo(zoo_name, shape, **dict(options)).first_over_last()


def flow_figure(spec: dict, lesson: Lesson) -> float:
    shape = tuple(spec.get("input") or lesson.input or ())
    return _flow_figure(spec["zoo"], tuple(sorted(spec.get("options", {}).items())),
                        shape or None)


def is_flow_lesson(lesson: Lesson) -> bool:
    return any(m in FLOW_METRICS for m in lesson.expect)


def evaluate(lesson: Lesson) -> Result:
    from .summary import summarize

    figures: dict[str, list[float]] = {m: [] for m in lesson.expect}
    counted = [m for m in lesson.expect if m not in FLOW_METRICS]
    for spec in lesson.models:
        if counted:
            graph = _graph(spec, lesson)
            table = summarize(graph)
        for m in lesson.expect:
            figures[m].append(flow_figure(spec, lesson) if m in FLOW_METRICS
                              else _metric(m, graph, table))
    checks = []
    for m, exp in lesson.expect.items():
        got = figures[m]
        if m in FLOW_METRICS:
            checks.extend(_orders_checks(m, exp, got, [s["label"] for s in lesson.models]))
            continue
        if "values" in exp:
            ok = [int(v) for v in got] == [int(v) for v in exp["values"]]
            checks.append((m, ok, f"{m}: {fmt_list(got)} (expected {fmt_list(exp['values'])})"))
        if "ratio" in exp:
            ratio = got[1] / got[0]
            tol = exp.get("tolerance", 0.001)
            ok = abs(ratio - exp["ratio"]) <= tol
            checks.append((m, ok, f"{m} ratio {ratio:.4f} (expected {exp['ratio']} ± {tol})"))
    return Result(lesson, [s["label"] for s in lesson.models], figures, checks)


def _orders_checks(metric: str, exp: dict, got: list[float],
                   labels: list[str]) -> list[tuple[str, bool, str]]:
    """Checks in orders of magnitude (log10): each model's figure within its range, and
    the first model's over the second's (``orders_apart``) within its range."""
    logs = [math.log10(v) if v > 0 else -math.inf for v in got]
    shown = ", ".join(f"{label} {fmt_value(metric, v)}" for label, v in zip(labels, got))
    checks = []
    for (lo, hi), label, value in zip(exp.get("log10", []), labels, logs):
        ok = lo <= value <= hi
        checks.append((metric, ok, f"{FLOW_METRICS[metric]} of {label}: 10^{value:.1f} "
                                   f"(expected 10^{lo:g} to 10^{hi:g})"))
    if "orders_apart" in exp:
        lo, hi = exp["orders_apart"]
        apart = logs[0] - logs[1]
        ok = lo <= apart <= hi
        checks.append((metric, ok, f"{FLOW_METRICS[metric]}: {shown}; {labels[0]} over "
                                   f"{labels[1]} {apart:+.1f} orders of magnitude "
                                   f"(expected {lo:+g} to {hi:+g})"))
    return checks


def fmt_value(metric: str, value: float) -> str:
    """One figure as a person reads it: counts with separators, flow ratios as 1.2e+03."""
    return f"{value:.2g}" if metric in FLOW_METRICS else f"{int(value):,}"


def fmt_list(values) -> str:
    return ", ".join(f"{int(v):,}" for v in values)
