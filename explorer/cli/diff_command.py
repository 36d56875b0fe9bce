"""``explorer diff A B -o out.svg|png|json|md``: two models' graphs matched, the
difference drawn side by side or listed."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import CLIError, parse_depth, parse_shape


def cmd_diff(args: argparse.Namespace) -> int:
    from ..diffstate import trace_model
    from ..export.diff_export import SUFFIXES, write_diff
    from ..export.files import check_destination
    from ..graph import FoldSpec, TraceError, fold
    from ..graph.diff import diff
    from ..graph.diff_layout import pair_layout, revealing_spec, shared_spec

    out = Path(args.output)
    if out.suffix.lower() not in SUFFIXES:
        raise CLIError(f"cannot write {out.name}: use .svg, .png, .json or .md")
    check_destination(out)
    shape = parse_shape(args.input)
    try:
        a, b = (trace_model(text, shape) for text in (args.a, args.b))
    except (TraceError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    depth = parse_depth(args.depth, ("auto", "full"))
    if depth in (None, "auto"):
        spec = revealing_spec(a, b, shared_spec(a, b))
    else:
        spec = FoldSpec(None if depth == "full" else depth)
    result = diff(fold(a, spec), fold(b, spec))
    drawing = out.suffix.lower() in (".svg", ".png")
    try:
        write_diff(result, pair_layout(result) if drawing else None, out, scale=args.scale)
    except (OSError, ValueError) as exc:
        raise CLIError(f"{out}: {exc}") from None
    print(f"{out}: same {result.tally('same')}; changed {result.tally('changed')}; "
          f"only in {a.model} {result.tally('only_a')}; "
          f"only in {b.model} {result.tally('only_b')}")
    return 0
