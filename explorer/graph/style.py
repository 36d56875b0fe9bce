"""One style table for node categories and edge kinds: the scene, the legend and every
exporter read it, so a residual edge looks the same everywhere."""

from __future__ import annotations

from typing import Any

# category -> (fill, border)
NODE_STYLES: dict[str, tuple[str, str]] = {
    "input": ("#e8e8e8", "#555555"),
    "output": ("#e8e8e8", "#555555"),
    "conv": ("#cfe3ff", "#2f6db5"),
    "linear": ("#ffd9b3", "#c26a12"),
    "norm": ("#e3f2d5", "#4f8a2b"),
    "activation": ("#fff4c2", "#a88b00"),
    "pool": ("#f3d6f5", "#8a3b91"),
    "upsample": ("#d6f5f0", "#1f8a78"),
    "merge": ("#ffd6d6", "#b53030"),
    "reshape": ("#eeeeee", "#888888"),
    "block": ("#dfe6f0", "#3d4f66"),
    "other": ("#f5f5f5", "#777777"),
}

# kind -> (colour, width, dash pattern or None, description)
EDGE_STYLES: dict[str, tuple[str, float, tuple[int, int] | None, str]] = {
    "data": ("#555555", 1.2, None, "data flow"),
    "residual": ("#d62728", 2.0, None, "residual shortcut"),
    "branch": ("#2ca02c", 1.6, None, "parallel branch"),
    "concat": ("#1f77b4", 1.0, (4, 3), "dense concatenation"),
    "gate": ("#e377c2", 1.8, (6, 2), "attention gate (SE scale)"),
    "skip": ("#9467bd", 2.2, (8, 4), "encoder-decoder skip"),
    "index": ("#ff7f0e", 2.0, (2, 3), "max-pool indices"),
}

_CATEGORY_OPS = {
    "conv": ("Conv", "conv", "SeparableConv2d"),
    "linear": ("Linear", "linear", "matmul", "mm", "addmm", "Bilinear"),
    "norm": ("Norm", "norm", "LocalResponseNorm"),
    "activation": ("ReLU", "relu", "Sigmoid", "sigmoid", "Tanh", "tanh", "GELU", "gelu",
                   "SiLU", "silu", "Softmax", "softmax", "Hardswish", "LeakyReLU", "ELU",
                   "PReLU", "Mish", "hardtanh", "Dropout", "dropout"),
    "pool": ("Pool", "pool", "mean", "avg_pool2d", "max_pool2d", "adaptive_avg_pool2d",
             "adaptive_max_pool2d", "avg_pool1d", "max_pool1d", "lp_pool2d"),
    "upsample": ("ConvTranspose", "Upsample", "interpolate", "Unpool", "unpool",
                 "PixelShuffle"),
    "merge": ("add", "cat", "mul", "stack", "sub", "div"),
    "reshape": ("flatten", "Flatten", "view", "reshape", "channel_shuffle", "chunk", "getitem",
                "Crop", "pad", "transpose", "permute", "squeeze", "unsqueeze", "split",
                "ZeroPadShortcut", "Identity"),
}


def category(data: dict[str, Any]) -> str:
    if data.get("kind") in ("input", "output"):
        return data["kind"]
    if data.get("folded"):
        return data.get("tone", "block")  # see fold._tone
    op = data.get("op", "")
    # Upsampling first: ConvTranspose2d also contains "Conv", MaxUnpool also "Pool".
    for cat in ("upsample", "merge", "reshape", "conv", "linear", "norm", "activation", "pool"):
        if any(op == k or (k[0].isupper() and k in op) for k in _CATEGORY_OPS[cat]):
            return cat
    return "other"


def shape_text(shape) -> str:
    """(1, 64, 56, 56) -> 64×56×56: the batch dimension is left out."""
    dims = list(shape)[1:] if len(shape) > 1 else list(shape)
    return "×".join(str(d) for d in dims) if dims else "scalar"


def node_label(node_id: str, data: dict[str, Any]) -> list[str]:
    """The lines drawn in a node's box: what it is in the papers' words ("3×3 conv, 64,
    /2", "bottleneck 1×1-3×3-1×1, 256 ×3"), its name, its output shape, and for a folded
    block the shortcuts or links its caption does not already say."""
    from .describe import op_caption

    count = data.get("count", 1)
    caption = data.get("caption") or (data.get("op", "?") if data.get("folded")
                                      else op_caption(data))
    title = f"{caption} ×{count}" if count > 1 else caption
    second = data["path"] if data.get("folded") else node_id
    if count > 1:
        second = f"{second} … {data['repeat_of'][-1].split('.')[-1]}"
    lines = [title, second, shape_text(data.get("out_shape", ()))]
    if second == title:  # "input", "output"
        lines.pop(1)
    shown = {k: v for k, v in data.get("motifs", {}).items()
             if k in ("residual", "projection", "padded", "skip", "index")}
    motifs = motif_text(shown)
    return lines + [motifs] if motifs else lines


def motif_text(motifs: dict[str, int]) -> str:
    """What a folded block hides: its shortcuts, branches, dense links, gates, skips."""
    parts = []
    if motifs.get("residual"):
        n, proj, pad = motifs["residual"], motifs.get("projection", 0), motifs.get("padded", 0)
        kinds = [(k, word) for k, word in ((proj, "projection"), (pad, "zero-pad"),
                                           (n - proj - pad, "identity")) if k > 0]
        kind = kinds[0][1] if len(kinds) == 1 else ", ".join(f"{k} {w}" for k, w in kinds)
        parts.append(f"{n} shortcuts ({kind})" if n > 1 else f"shortcut ({kind})")
    if motifs.get("branch"):
        parts.append("parallel branches")
    if motifs.get("concat"):
        parts.append(f"{motifs['concat']} dense links")
    if motifs.get("gate"):
        parts.append("SE gate" if motifs["gate"] == 1 else f"{motifs['gate']} SE gates")
    if motifs.get("skip"):
        parts.append(f"{motifs['skip']} skip{'s' if motifs['skip'] > 1 else ''}")
    if motifs.get("index"):
        parts.append("pool indices")
    return ", ".join(parts)


def measure_text(lines: list[str], char_width: float = 7.0, line_height: float = 14.0,
                 pad: float = 10.0) -> tuple[float, float]:
    """Box size for a label with a fixed-width estimate; the GUI passes real font metrics."""
    width = max(len(line) for line in lines) * char_width + 2 * pad
    return max(width, 60.0), len(lines) * line_height + pad


def motif_bracket(x: float, y: float, w: float, h: float) -> list[tuple[float, float]]:
    """A shortcut drawn around a folded block: out of its top, down its right side, in."""
    return [(x + w - 10, y), (x + w - 10, y - 6), (x + w + 8, y - 6), (x + w + 8, y + h + 6),
            (x + w - 10, y + h + 6), (x + w - 10, y + h)]


# Two models compared (graph.diff): status -> (colour, legend text with {a} and {b} for the
# model names). Drawn as a wide halo under a box or an edge, so the category colours and
# edge kinds still read; "same" gets no halo.
DIFF_STYLES: dict[str, tuple[str, str]] = {
    "only_a": ("#e0218a", "only in {a}"),
    "only_b": ("#1a9850", "only in {b}"),
    "changed": ("#f39c12", "changed"),
}
DIFF_HALO = 9.0  # the halo's width around a box or along an edge, in layout units
