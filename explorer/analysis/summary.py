"""Per-layer tables: parameters, MACs/FLOPs, shapes, activation memory, receptive field.

Counting follows torchvision's convention (see README): FLOPs come from
``torch.utils.flop_counter.FlopCounterMode`` per traced call (conv, linear/matmul; a
transposed conv counted correctly), MACs = FLOPs / 2; ops it has no formula for
(BN, activations, pooling, adds, upsampling) are 0, never a guess. Everything runs on the
meta device, so U-Net at 572x572 or FCN at 520x520 allocate no activations.

MACs, FLOPs and activation bytes are for the whole input batch, as the pass computes them;
``LayerTable.per_image`` divides them by the batch size (the papers' and torchvision's
figures are per image). The module imports torch only when it summarizes, so that a table's
types cost nothing to import.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ..graph.fold import FoldSpec
    from ..graph.layergraph import LayerGraph

FAMILIES = ("conv", "linear", "norm", "other")
_LINEAR_OPS = {"Linear", "Bilinear", "LazyLinear", "matmul", "mm", "addmm", "bmm", "linear"}


def family(op: str) -> str:
    if "Conv" in op or op.startswith("conv"):
        return "conv"
    if op in _LINEAR_OPS:
        return "linear"
    if "Norm" in op or op in ("batch_norm", "layer_norm", "group_norm"):
        return "norm"
    return "other"


@dataclass
class Row:
    name: str
    type: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int
    trainable_params: int
    macs: int
    flops: int
    activation_bytes: int
    receptive_field: int
    stride: float
    share: float  # of the model's MACs
    family: str
    folded: bool = False
    count: int = 1
    label: str = ""  # what the table shows: a folded run as the graph names it ("a … b ×2")

    def __post_init__(self) -> None:
        self.label = self.label or self.name

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["in_shape"], d["out_shape"] = list(self.in_shape), list(self.out_shape)
        d["stride"] = int(self.stride) if float(self.stride).is_integer() else self.stride
        return d


@dataclass
class LayerTable:
    model: str
    input_shape: tuple[int, ...]
    dtype: str
    rows: list[Row]
    total: dict[str, int]
    by_family: dict[str, dict[str, int]] = field(default_factory=dict)

    def row(self, name: str) -> Row:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no layer {name!r} in the table of {self.model}")

    @property
    def batch(self) -> int:
        return int(self.input_shape[0]) if self.input_shape else 1

    @property
    def per_image(self) -> dict[str, int]:
        """The totals that grow with the batch, for one image of it."""
        return {k: self.total[k] // self.batch for k in PER_IMAGE}

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "input_shape": list(self.input_shape), "dtype": self.dtype,
                "batch": self.batch, "total": dict(self.total), "per_image": self.per_image,
                "by_family": self.by_family, "layers": [r.as_dict() for r in self.rows]}


UNUSED_ROW = "(not run in this pass)"
PER_IMAGE = ("macs", "flops", "activation_bytes")  # totals proportional to the batch size


def summarize(source: str | nn.Module | LayerGraph, input_shape: tuple[int, ...] | None = None,
              spec: FoldSpec | None = None, dtype: torch.dtype | str = "float32",
              **options: Any) -> LayerTable:
    """One row per visible node of ``spec``'s view (every layer by default), with totals.

    ``source`` is a zoo name (``options`` are its options), a module, or a traced graph."""
    import torch
    from torch import nn

    from ..graph.fold import FoldSpec, fold
    from ..graph.trace import trace, trace_zoo
    from .receptive import receptive_fields

    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    if isinstance(source, str):
        graph = trace_zoo(source, input_shape, **options)
    elif isinstance(source, nn.Module):
        if input_shape is None:
            raise ValueError("summarize(module) needs an input_shape")
        graph = trace(source, input_shape)
    else:
        graph = source
    elem = torch.empty((), dtype=dtype).element_size()
    g = graph.nx
    fields = receptive_fields(g)
    total_flops = sum(d["flops"] for _, d in g.nodes(data=True))
    view = fold(graph, spec or FoldSpec())
    rows: list[Row] = []
    for n in sorted(view.nx, key=lambda n: view.nx.nodes[n]["order"]):
        d = view.nx.nodes[n]
        if d["kind"] in ("input", "output"):
            continue
        members = d.get("members") or [n]
        last = max(members, key=lambda m: g.nodes[m]["order"])
        rf_h, rf_w, j_h, j_w = fields[last]
        act = sum(_numel(g.nodes[m].get("out_shapes", [])) for m in members) * elem
        fams = {family(g.nodes[m]["op"]) for m in members if g.nodes[m]["flops"] or
                g.nodes[m]["params"]}
        rows.append(Row(
            name=n, type=d["op"], in_shape=tuple(d["in_shapes"][0]) if d["in_shapes"] else (),
            out_shape=tuple(d["out_shape"]), params=d["params"], trainable_params=d["trainable"],
            macs=d["flops"] // 2, flops=d["flops"], activation_bytes=act,
            receptive_field=int(round(max(rf_h, rf_w))), stride=max(j_h, j_w),
            share=d["flops"] / total_flops if total_flops else 0.0,
            family=fams.pop() if len(fams) == 1 else ("block" if d.get("folded") else
                                                      family(d["op"])),
            folded=bool(d.get("folded")), count=d.get("count", 1), label=_label(n, d)))
    if graph.unused:
        rows.append(Row(UNUSED_ROW, ", ".join(sorted({p.split(".")[0] for p in graph.unused})),
                        (), (), sum(p for p, _ in graph.unused.values()),
                        sum(t for _, t in graph.unused.values()), 0, 0, 0, 0, 0.0, 0.0, "other"))
    by_family = {f: {"params": 0, "macs": 0} for f in FAMILIES}
    for _, d in g.nodes(data=True):
        fam = by_family[family(d["op"])]
        fam["params"] += d.get("params", 0)
        fam["macs"] += d.get("flops", 0) // 2
    by_family["other"]["params"] += sum(p for p, _ in graph.unused.values())
    total = {
        "params": sum(r.params for r in rows),
        "trainable_params": sum(r.trainable_params for r in rows),
        "macs": total_flops // 2,
        "flops": total_flops,
        "activation_bytes": sum(r.activation_bytes for r in rows),
    }
    return LayerTable(graph.model, graph.input_shape, str(dtype)[6:], rows, total, by_family)


def _label(node: str, data: dict[str, Any]) -> str:
    """A node's name, or a run of repeated blocks in the graph's own words."""
    from ..graph.style import node_label

    count = data.get("count", 1)
    return f"{node_label(node, data)[1]} ×{count}" if count > 1 else node


def _numel(shapes) -> int:
    total = 0
    for s in shapes:
        n = 1
        for d in s:
            n *= int(d)
        total += n
    return total
