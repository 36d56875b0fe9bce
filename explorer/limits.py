"""The limits every entry point enforces, in one place, so the CLI, the app and the
README quote the same numbers.

``MEMORY_BUDGET`` is the one memory figure: no single intermediate (a decoded image, a
kept activation set, one layer's output) may exceed it. With the model's own footprint
on top, an accepted input stays well under 1.5 GB of extra memory."""

from __future__ import annotations

MEMORY_BUDGET = 1 << 30  # bytes: activations kept, an image's decode, one layer's output

MAX_PIXELS = 80_000_000  # decompression-bomb guard: about 8944 x 8944, far beyond any model
MAX_ASPECT = 100  # long side / short side: beyond this a centre crop shows a sliver
WORK_PIXELS = 4096 * 4096  # images are reduced to at most this many pixels when decoded

MAX_INPUT_SIDE = 65_536  # any N, C, H or W of a model input (shapes only: meta device)
MAX_INPUT_ELEMENTS = 1 << 34  # N*C*H*W of a traced input; a real run also needs the budget

# one forward and backward pass (explorer flow, the Flow dock): the activations autograd
# keeps for the backward pass, the gradients and the weights, estimated before it runs
FLOW_MEMORY = 6 << 30

PROBE_SECONDS = 20.0  # a user's model file must load (and trace) in this long
PROBE_MEMORY = 2 << 30  # bytes the probe's user code may map beyond the interpreter's own


def bytes_text(n: float) -> str:
    """Bytes in binary units, the one convention of every view, export and command line
    ('784.0 KiB' for 802,816 bytes; the window said '784.0 kB', the CLI '802.82kB')."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:,.0f} B"


gb = bytes_text  # the budgets' messages: '1.0 GiB', '320.0 MiB'

# an exported program (.pt2), judged from its zip directory before anything is inflated
PT2_TENSOR_BYTES = MEMORY_BUDGET  # all its weights and constants together
PT2_ENTRY_BYTES = 64 << 20  # one JSON document or the sample-input pickle
PT2_MAX_ENTRIES = 100_000
MAX_COMPRESSION_RATIO = 100  # inflated / stored size of any compressed entry

# an ONNX file, judged from its declared sizes before anything is allocated
ONNX_TENSOR_BYTES = MEMORY_BUDGET  # all its initializers and folded constants together

# a model's parameters and buffers, on a real device (structure on meta has no limit)
MODEL_BUDGET = MEMORY_BUDGET


def input_shape_problem(shape) -> str | None:
    """What is wrong with a model input's shape, in the words the CLI's ``--input`` uses
    (None: a tuple of positive whole sizes within the limits)."""
    import math
    import numbers

    if not isinstance(shape, (tuple, list)) or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in shape):
        return "takes whole numbers like (1, 3, 224, 224)"
    shape = [int(s) for s in shape]
    if not shape:
        return "is empty; give sizes like (1, 3, 224, 224)"
    if min(shape) < 1:
        return "needs positive sizes (N, C, H, W)" + (
            "; a batch of 0 holds nothing" if shape[0] == 0 else "")
    if max(shape) > MAX_INPUT_SIDE or math.prod(shape) > MAX_INPUT_ELEMENTS:
        return (f"is too large: each size at most {MAX_INPUT_SIDE:,}, and N*C*H*W at most "
                f"{MAX_INPUT_ELEMENTS:,}")
    return None
