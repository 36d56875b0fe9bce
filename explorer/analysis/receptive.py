"""Receptive field and cumulative stride at every node's output.

Per spatial axis, a node's output pixel sees ``rf`` input pixels and neighbouring output
pixels are ``jump`` input pixels apart. A conv or pool with kernel k, stride s, dilation d
gives rf' = rf + (d·(k-1)) · jump and jump' = jump · s; a transposed conv (or unpool,
interpolate) divides the jump. Where paths join (add, cat) the largest field wins.
Ops we know nothing about but that shrink the map (adaptive pools) act as a pool whose
kernel is the shrink factor; ops that keep the size keep the field.
"""

from __future__ import annotations

import math

import networkx as nx

Field = tuple[float, float, float, float]  # rf_h, rf_w, jump_h, jump_w


def _pair(value, default: int = 1) -> tuple[int, int]:
    if value is None:
        return (default, default)
    if isinstance(value, (tuple, list)):
        return (int(value[0]), int(value[-1]))
    return (int(value), int(value))


def _spatial(shape) -> tuple[int, int] | None:
    return (int(shape[-2]), int(shape[-1])) if shape and len(shape) >= 4 else None


def _kernel_of(data: dict) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]] | None:
    """(kernel, stride, dilation) for ops that declare them, else None."""
    attrs = data.get("attrs") or {}
    op = data["op"]
    if "kernel_size" in attrs and ("Conv" in op or "Pool" in op or "pool" in op):
        k = _pair(attrs["kernel_size"])
        s = _pair(attrs.get("stride") or k) if "Pool" in op or "pool" in op else _pair(
            attrs.get("stride"))
        return k, s, _pair(attrs.get("dilation"))
    if op in ("max_pool2d", "avg_pool2d") and ("kernel_size" in attrs or "arg1" in attrs):
        k = _pair(attrs.get("kernel_size", attrs.get("arg1")))
        return k, _pair(attrs.get("stride", attrs.get("arg2")) or k), (1, 1)
    return None


def _apply(field: Field, data: dict, in_shape, out_shape) -> Field:
    rf_h, rf_w, j_h, j_w = field
    op = data["op"]
    kernel = _kernel_of(data)
    if kernel is not None and "Transpose" in op:
        (kh, kw), (sh, sw), _ = kernel
        return (rf_h + (math.ceil(kh / sh) - 1) * j_h, rf_w + (math.ceil(kw / sw) - 1) * j_w,
                j_h / sh, j_w / sw)
    if kernel is not None and "Unpool" not in op:
        (kh, kw), (sh, sw), (dh, dw) = kernel
        return (rf_h + dh * (kh - 1) * j_h, rf_w + dw * (kw - 1) * j_w, j_h * sh, j_w * sw)
    src, dst = _spatial(in_shape), _spatial(out_shape)
    if not src or not dst:
        return field
    fh, fw = src[0] / dst[0], src[1] / dst[1]
    if fh > 1 or fw > 1:  # shrinks: an adaptive pool or similar
        kh, kw = math.ceil(fh), math.ceil(fw)
        return (rf_h + (kh - 1) * j_h, rf_w + (kw - 1) * j_w, j_h * fh, j_w * fw)
    if fh < 1 or fw < 1:  # grows: upsampling
        return (rf_h, rf_w, j_h * fh, j_w * fw)
    return field


def receptive_fields(g: nx.DiGraph) -> dict[str, Field]:
    """Field at each node's output, in call (topological) order."""
    fields: dict[str, Field] = {}
    for n in sorted(g, key=lambda n: g.nodes[n]["order"]):
        data = g.nodes[n]
        preds = list(g.predecessors(n))
        if not preds:
            fields[n] = (1.0, 1.0, 1.0, 1.0)
            continue
        # the largest field among the inputs (cat, add: the longest path decides)
        best = max(preds, key=lambda u: (max(fields[u][0], fields[u][1]), -fields[u][2]))
        in_shape = g.edges[best, n].get("shape")
        fields[n] = _apply(fields[best], data, in_shape, data.get("out_shape"))
    return fields
