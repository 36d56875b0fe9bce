"""``explorer diff A B -o out.svg|png|json|md``: two models' graphs matched, the
difference drawn side by side or listed."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import CLIError, parse_depth, parse_shape


def parse_model(text: str) -> tuple[str, dict[str, str]]:
    """``NAME``, ``NAME:key=value,...``, a model file (``net.py:Class``, ``net.pt2``) or a
    model file with options: the part after the last colon is options when it has an =."""
    name, sep, rest = text.rpartition(":")
    if not sep or "=" not in rest:
        return text, {}
    options = {}
    for pair in rest.split(","):
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise CLIError(f"options take key=value, not {pair!r} (in {text!r})")
        options[key.strip()] = value.strip()
    return name, options


def cmd_diff(args: argparse.Namespace) -> int:
    from ..export.diff_export import SUFFIXES, write_diff
    from ..export.files import check_destination
    from ..graph import FoldSpec, TraceError, fold, trace_zoo
    from ..graph.diff import diff
    from ..graph.diff_layout import pair_layout, shared_spec

    out = Path(args.output)
    if out.suffix.lower() not in SUFFIXES:
        raise CLIError(f"cannot write {out.name}: use .svg, .png, .json or .md")
    check_destination(out)
    shape = parse_shape(args.input)
    graphs = []
    for text in (args.a, args.b):
        name, options = parse_model(text)
        try:
            graph = trace_zoo(name, shape, **options)
            graphs.append(graph)
            graph.model = text if options else graph.model  # say which variant
        except TraceError as exc:
            raise CLIError(str(exc)) from None
    a, b = graphs
    depth = parse_depth(args.depth, ("auto", "full"))
    if depth in (None, "auto"):
        spec = shared_spec(a, b)
    else:
        spec = FoldSpec(None if depth == "full" else depth)
    result = diff(fold(a, spec), fold(b, spec))
    drawing = out.suffix.lower() in (".svg", ".png")
    try:
        write_diff(result, pair_layout(result) if drawing else None, out, scale=args.scale)
    except (OSError, ValueError) as exc:
        raise CLIError(f"{out}: {exc}") from None
    totals = result.totals()["nodes"]
    print(f"{out}: {totals['same']} same, {totals['changed']} changed, "
          f"{totals['only_a']} only in {a.model}, {totals['only_b']} only in {b.model}")
    return 0
