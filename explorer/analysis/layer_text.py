"""A layer's LayerInfo as ``explorer info --layer`` prints it: the operator's
description, attributes, shapes, counts, where it comes from, its tensors' statistics."""

from __future__ import annotations

from .layer_info import LayerInfo


def _number(value: float) -> str:
    return f"{value:.6g}"


def layer_text(info: LayerInfo) -> str:
    """The layer as ``explorer info --layer`` prints it."""
    def shape(s) -> str:
        return "×".join(map(str, s)) or "-"

    lines = [f"{info.node}: {info.type}" + (" (folded block)" if info.folded else "")]
    if info.operator is not None:
        lines.append(f"  {info.operator.title}: {info.operator.text}")
        if info.operator.lesson:
            lines.append(f"  lesson: explorer lessons {info.operator.lesson}")
    rows = [(k, "×".join(map(str, v)) if isinstance(v, tuple) else str(v))
            for k, v in info.attributes.items()]
    rows += [("input", shape(s)) for s in info.in_shapes]
    rows += [("output", shape(info.out_shape)), ("parameters", f"{info.params:,}"),
             ("MACs", f"{info.macs:,}")]
    if info.share is not None:
        rows += [("share of MACs", f"{100 * info.share:.2f}%"),
                 ("receptive field", f"{info.receptive_field} px, stride {info.stride:g}")]
    rows += [("inside", f"{n} × {op}") for op, n in info.members.items()]
    rows += list(info.file_node.items())
    if info.source is not None:
        words = info.source.how.split()  # "created in Mine.__init__ at"
        rows.append((" ".join(words[:2]), " ".join(
            [*words[2:], f"{info.source.file}:{info.source.line}"])))
    lines += [f"  {k:<16}{v}" for k, v in rows]
    if info.tensors:
        lines.append(f"  {'tensor':<22}{'shape':<14}{'dtype':<9}{'count':>9}"
                     f"{'min':>12}{'max':>12}{'mean':>12}{'std':>12}")
    for t in info.tensors:
        values = [t.stats.min, t.stats.max, t.stats.mean, t.stats.std] if t.stats else []
        lines.append(f"  {t.name + (' (buffer)' if t.kind == 'buffer' else ''):<22}"
                     f"{shape(t.shape):<14}{t.dtype:<9}{t.count:>9,}"
                     + "".join(f" {_number(v):>11}" for v in values))
    return "\n".join(lines)
