"""Captions in the papers' words: a layer's defining attributes ("3×3 conv, 64, /2") and
what a folded block holds ("bottleneck 1×1-3×3-1×1, 256", "dense block: 6 layers, k = 32",
"SE: r = 16", "inception: 4 branches"). Everything is read from the traced structure
and the nodes' attributes, never from model or module names."""

from __future__ import annotations

from typing import Any

import networkx as nx

from .classify import SPLIT_OPS, is_channel_slice

CONV_OPS = {"Conv1d", "Conv2d", "Conv3d", "conv1d", "conv2d", "conv3d"}
UPCONV_OPS = {"ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"}
ACTIVATIONS = {"ReLU": "ReLU", "relu": "ReLU", "ReLU6": "ReLU6", "Sigmoid": "sigmoid",
               "sigmoid": "sigmoid", "Tanh": "tanh", "tanh": "tanh", "GELU": "GELU",
               "SiLU": "SiLU", "Hardswish": "h-swish", "LeakyReLU": "leaky ReLU",
               "Softmax": "softmax", "softmax": "softmax"}
NORMS = {"BatchNorm1d": "BN", "BatchNorm2d": "BN", "BatchNorm3d": "BN", "LayerNorm": "LN",
         "GroupNorm": "GN", "InstanceNorm2d": "IN", "LocalResponseNorm": "LRN"}
WORDS = {"cat": "concat", "add": "add", "mul": "scale ×", "channel_shuffle": "channel shuffle",
         "flatten": "flatten", "Flatten": "flatten", "Crop": "crop",
         "mean": "global avg pool", "Identity": "identity"}


def _pair(value: Any) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def kernel_text(value: Any) -> str:
    """3 -> 3×3, (1, 7) -> 1×7."""
    k = _pair(value)
    return "×".join(map(str, k * 2 if len(k) == 1 else k))


def _factor(value: Any) -> int:
    s = _pair(value)
    return int(max(s)) if s else 1


def is_depthwise(attrs: dict) -> bool:
    groups = attrs.get("groups", 1)
    return groups > 1 and groups == attrs.get("in_channels")


def op_caption(data: dict[str, Any]) -> str:
    """One line naming a layer by what defines it, as the papers' figures do."""
    op, attrs = data.get("op", "?"), data.get("attrs") or {}
    if data.get("kind") in ("input", "output"):
        return data["kind"]
    if op in CONV_OPS and "kernel_size" in attrs:
        parts = [f"{kernel_text(attrs['kernel_size'])} conv", str(attrs.get("out_channels", ""))]
        if _factor(attrs.get("stride", 1)) > 1:
            parts.append(f"/{_factor(attrs['stride'])}")
        if is_depthwise(attrs):
            parts.append("dw")
        elif attrs.get("groups", 1) > 1:
            parts.append(f"g = {attrs['groups']}")
        if _factor(attrs.get("dilation", 1)) > 1:
            parts.append(f"dilation {_factor(attrs['dilation'])}")
        return ", ".join(p for p in parts if p)
    if op in UPCONV_OPS and "kernel_size" in attrs and _factor(attrs.get("stride", 1)) == 1:
        return f"{kernel_text(attrs['kernel_size'])} deconv, {attrs.get('out_channels', '')}"
    if op in UPCONV_OPS and "kernel_size" in attrs:
        return (f"{kernel_text(attrs['kernel_size'])} up-conv, {attrs.get('out_channels', '')}, "
                f"×{_factor(attrs.get('stride', 1))}")
    if op == "Linear":
        return f"fc, {attrs.get('out_features', '')}"
    if "Pool" in op or op in ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
                              "adaptive_max_pool2d"):
        return _pool_caption(op, attrs, data)
    if "Unpool" in op or op.startswith("max_unpool"):
        k = attrs.get("kernel_size", 2)
        return f"max unpool {kernel_text(k)}, ×{_factor(attrs.get('stride', k))}"
    if op in ("Upsample", "interpolate", "UpsamplingBilinear2d", "UpsamplingNearest2d"):
        return _upsample_caption(attrs, data)
    if op.startswith("Dropout") or op == "dropout":
        return f"dropout, p = {attrs['p']:g}" if "p" in attrs else "dropout"
    if op == "ZeroPadShortcut":  # ResNet option A: strides, pads the new channels with 0
        stride = _factor(attrs.get("stride", 1))
        out = data.get("out_shape") or (0, "")
        return f"zero-pad shortcut, {out[1] if len(out) > 1 else ''}" + (
            f", /{stride}" if stride > 1 else "")
    if op in ("getitem", "narrow") or op in SPLIT_OPS:
        return _slice_caption(op, attrs, data)
    if op in NORMS:
        return NORMS[op]
    if op in ACTIVATIONS:
        return ACTIVATIONS[op]
    return WORDS.get(op, op)


def _pool_caption(op: str, attrs: dict, data: dict) -> str:
    kind = "max" if "max" in op.lower() else "avg"
    if "adaptive" in op.lower():
        out = data.get("out_shape", ())
        if len(out) >= 3 and all(s == 1 for s in out[2:]):
            return f"global {kind} pool"
        return f"adaptive {kind} pool → {'×'.join(map(str, out[2:]))}"
    k = attrs.get("kernel_size", attrs.get("arg1"))
    stride = attrs.get("stride", attrs.get("arg2", k))
    text = f"{kind} pool" + (f" {kernel_text(k)}" if k is not None else "")
    if stride is not None and _factor(stride) > 1:
        text += f", /{_factor(stride)}"
    return text


def _slice_caption(op: str, attrs: dict, data: dict) -> str:
    """What a slice keeps ("slice [:, :16]") or how a split divides ("channel split
    58+58"): a part of a tensor, never to be read as a concatenation."""
    ins, outs = data.get("in_shapes") or [()], data.get("out_shapes") or []
    if op == "getitem":
        index = attrs.get("index", "")
        word = "slice" if index and all(
            ":" in k or k in ("...", "None") for k in index.strip("[]").split(", ")) else "select"
        return f"{word} {index}".strip()
    if op == "narrow":
        dim, start, length = (attrs.get(f"arg{i}") for i in (1, 2, 3))
        if isinstance(dim, int) and dim < 0:
            dim += len(ins[0])
        if isinstance(dim, int) and dim >= 0 and isinstance(start, int) and isinstance(
                length, int):
            return "slice [" + ", ".join([":"] * dim + [f"{start}:{start + length}"]) + "]"
        return "slice"
    dims = [i for i, s in enumerate(ins[0]) if outs and any(
        len(o) == len(ins[0]) and o[i] != s for o in outs)]
    if not dims or not outs:
        return "split"
    sizes = "+".join(str(o[dims[0]]) for o in outs)
    return f"channel split {sizes}" if dims[0] == 1 else f"split {sizes} (dim {dims[0]})"


def _upsample_caption(attrs: dict, data: dict) -> str:
    mode = attrs.get("mode")
    ins, out = data.get("in_shapes") or [()], data.get("out_shape", ())
    factor = ""
    if ins and len(ins[0]) >= 3 and len(out) >= 3 and ins[0][-1]:
        ratio = out[-1] / ins[0][-1]
        factor = f" ×{ratio:g}" if ratio == int(ratio) else f" → {'×'.join(map(str, out[2:]))}"
    return f"upsample{factor}" + (f", {mode}" if isinstance(mode, str) else "")


# ------------------------------------------------------------------------------ blocks
def _conv_token(attrs: dict) -> str:
    groups = attrs.get("groups", 1)
    suffix = " dw" if is_depthwise(attrs) else f" g{groups}" if groups > 1 else ""
    return kernel_text(attrs["kernel_size"]) + suffix


def _is_conv(d: dict) -> bool:
    """A convolution that keeps the resolution or lowers it (a stride-1 transposed
    convolution is DeconvNet's "deconvolution" layer: counted here too)."""
    attrs = d.get("attrs") or {}
    if "kernel_size" not in attrs:
        return False
    return d["op"] in CONV_OPS or (d["op"] in UPCONV_OPS and _factor(attrs.get("stride", 1)) == 1)


def compress(tokens: list[str]) -> str:
    """['3×3 dw', '1×1'] * 3 -> '(3×3 dw-1×1) ×3'; ['3×3', '3×3'] -> '3×3-3×3'."""
    n = len(tokens)
    for period in range(1, n // 2 + 1):
        reps = n // period
        if n % period == 0 and tokens == tokens[:period] * reps and (reps >= 3 or period > 1):
            unit = "-".join(tokens[:period])
            return f"({unit}) ×{reps}" if period > 1 else f"{unit} ×{reps}"
    return "-".join(tokens)


def _spatial(shape) -> int:
    return int(shape[-1]) if len(shape) >= 3 else 0


def _channels(shape) -> int:
    return int(shape[1]) if len(shape) >= 2 else 0


def block_caption(g: nx.DiGraph, members: list[str], motifs: dict[str, int],
                  in_shape: tuple, out_shape: tuple, children: int) -> str:
    """What a folded block holds, in the words of the papers' figures. ``g`` is the full
    traced graph, ``members`` the block's nodes in call order, ``children`` the number of
    direct child modules that have parameters (a dense block's layers)."""
    nodes = [g.nodes[n] for n in members]
    c_in, c_out = _channels(in_shape), _channels(out_shape)
    stride = ""
    if _spatial(in_shape) and _spatial(out_shape):
        ratio = _spatial(in_shape) / _spatial(out_shape)
        if ratio >= 1.5:
            stride = f", /{round(ratio)}"
        elif ratio <= 1 / 1.5:
            stride = f", ×{round(1 / ratio)}"
    if motifs.get("concat"):
        layers = children or sum(1 for d in nodes if d["op"] in CAT_OPS) - 1
        growth = (c_out - c_in) // layers if layers and c_out > c_in else 0
        return f"dense block: {layers} layers" + (f", k = {growth}" if growth else "")
    members_set = set(members)
    gates = [(u, v) for u, v, k in g.edges(members, data="kind")
             if k == "gate" and u in members_set and v in members_set]
    se = ""
    if gates:
        se = _se_caption(g, members, gates)
        if not motifs.get("residual"):
            return se.replace("SE r", "SE: r")
    if motifs.get("residual"):
        return _residual_caption(g, members, c_in, c_out, stride) + (f", {se}" if se else "")
    joins = [n for n in members if g.nodes[n]["op"] in CAT_OPS]
    if motifs.get("branch") and joins:
        last = joins[-1]
        sub = g.subgraph(members)
        learned = [p for p in g.predecessors(last) if p in sub and any(
            g.nodes[a]["params"] for a in nx.ancestors(sub, p) | {p})]
        if len(learned) == 1:  # ShuffleNet's stride-2 unit: a pooled shortcut, concatenated
            body = nx.ancestors(sub, learned[0]) | {learned[0]}
            # (its first 1×1 widens 24 → 60 channels: not MobileNet v2's inverted residual)
            split = any(g.nodes[n]["op"] in SPLIT_OPS or is_channel_slice(g.nodes[n])
                        for n in members)  # ShuffleNet v2: half the channels pass
            return (_residual_caption(g, members, c_in, c_out, stride, body)
                    .replace("inverted residual", "bottleneck", 1)
                    .replace("residual", "unit", 1)
                    + (", channel split" if split else ", concat shortcut"))
        return f"inception: {g.in_degree(last)} branches" + (f", {c_out}" if c_out else "")
    return _chain_caption(nodes, c_out, stride)


CAT_OPS = {"cat", "stack"}


def _long_path(g: nx.DiGraph, members: list[str]) -> set[str]:
    """Members on the long side of the block's residual joins (the shortcuts left out)."""
    inside = set(members)
    sub = g.subgraph(inside).copy()  # a view filters every step: 1202 layers took 15 s
    short: set[str] = set()
    for v in members:
        for u in g.predecessors(v):
            if g.edges[u, v]["kind"] == "residual" and u in inside and u not in short:
                short |= nx.ancestors(sub, u) | {u}
    long = inside - short
    for v in members:  # the fork feeding both sides belongs to neither
        if any(g.edges[u, v]["kind"] == "residual" for u in g.predecessors(v)):
            long |= {v}
    return long


def _residual_caption(g: nx.DiGraph, members: list[str], c_in: int, c_out: int,
                      stride: str, long_side: set[str] | None = None) -> str:
    long_side = _long_path(g, members) if long_side is None else long_side
    path = [n for n in members if n in long_side and not _in_gate(g, n)]
    convs = [g.nodes[n]["attrs"] for n in path if _is_conv(g.nodes[n])]
    tokens = [_conv_token(g.nodes[n]["attrs"]) if _is_conv(g.nodes[n]) else "shuffle"
              for n in path if _is_conv(g.nodes[n]) or g.nodes[n]["op"] == "channel_shuffle"]
    name = "residual"
    kernels = [kernel_text(a["kernel_size"]) for a in convs]
    if len(kernels) == 3 and kernels[0] == kernels[2] == "1×1":
        expands = convs[0].get("out_channels", 0) > convs[0].get("in_channels", 0)
        name = "inverted residual" if expands and is_depthwise(convs[1]) else "bottleneck"
    body = compress(tokens) if tokens else ""
    return f"{name} {body}, {c_out}{stride}".replace("  ", " ")


def _in_gate(g: nx.DiGraph, n: str) -> bool:
    """A node on an SE gate's path: its output is 1×1 in space."""
    out = g.nodes[n].get("out_shape", ())
    return len(out) >= 3 and all(s == 1 for s in out[2:])


def _se_caption(g: nx.DiGraph, members: list[str], gates) -> str:
    channels = [_channels(g.nodes[n].get("out_shape", ())) for n in members if _in_gate(g, n)]
    channels = [c for c in channels if c]
    if channels and min(channels):
        return f"SE r = {max(channels) // min(channels)}"
    return "SE gate"


def _chain_caption(nodes: list[dict], c_out: int, stride: str) -> str:
    """A plain chain: its convolutions (with their channels), pools and upsamplings."""
    convs = [d for d in nodes if _is_conv(d)]
    others = [d for d in nodes if (_is_resampling(d["op"]) and not _is_conv(d))
              or d["op"] == "Linear"]
    if len(convs) == 1 and not others:
        return op_caption(convs[0])
    parts: list[str] = []
    group: list[dict] = []

    def flush() -> None:
        if group:
            body = compress([_conv_token(d["attrs"]) for d in group])
            if body.endswith(tuple(f" ×{i}" for i in range(2, 100))) and "(" not in body:
                unit, reps = body.rsplit(" ", 1)
                body = f"{unit} conv {reps}"
            else:
                body += " conv"
            if all(d["op"] in UPCONV_OPS for d in group):
                body = body.replace(" conv", " deconv")
            parts.append(f"{body}, {group[-1]['attrs'].get('out_channels', '')}")
            group.clear()

    for d in nodes:
        if d in convs:
            group.append(d)
        elif d in others:
            flush()
            parts.append(op_caption(d))
    flush()
    if not parts:
        ops = [op_caption(d) for d in nodes]
        return "-".join(dict.fromkeys(ops)) if ops else "block"
    text = " → ".join(parts)
    if stride and not others and stride not in text:
        text += stride
    return text


def _is_resampling(op: str) -> bool:
    return (op in UPCONV_OPS or "Pool" in op or "pool" in op or "Unpool" in op
            or op in ("Upsample", "interpolate", "mean"))
