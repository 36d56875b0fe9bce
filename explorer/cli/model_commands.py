"""The commands that describe models without running an image: list, info, graph,
summary, compare and lessons."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import CLIError, emit, parse_depth, parse_options, parse_shape, zoo


def cmd_list(args: argparse.Namespace) -> int:
    names = zoo.list_models(args.pattern, task=args.task)
    if not names:
        raise CLIError(f"no model matches {args.pattern!r}")
    width = max(len(n) for n in names)
    for name in names:
        info = zoo.get_info(name)
        print(f"{name:<{width}}  {info.family:<10} {info.task:<14} {info.year}  {info.paper}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from ..export.table_export import human

    if args.layer:  # one layer: attributes and weight statistics (builds the model)
        import json

        from ..analysis.layer_info import inspect_layer
        from ..analysis.layer_text import layer_text

        layer = inspect_layer(args.name, args.layer, parse_options(args.option))
        print(json.dumps(layer.as_dict(), indent=1) if args.format == "json"
              else layer_text(layer))
        return 0
    info = zoo.get_info(args.name)
    options = parse_options(args.option)
    chosen, defaults = info.resolve(options), info.defaults()
    changed = {k: v for k, v in chosen.items() if v != defaults[k]}
    params = zoo.parameter_count(args.name, **options)
    torchvision = info.torchvision and (not changed or _same_tensors(args.name, changed))
    facts = {"name": info.name, "description": info.description, "family": info.family,
             "task": info.task, "paper": info.paper, "year": info.year,
             "input": list(zoo.input_shape(args.name, **options)), "params": params,
             "labels": info.labels, "torchvision_weights_load": torchvision,
             "init": info.initialisation,
             "options": [{"name": o.name, "value": chosen[o.name],
                          "default": None if o.guessed else o.default, "guessed": o.guessed,
                          "allowed": o.allowed(), "help": o.help} for o in info.options]}
    if args.format == "json":
        import json

        print(json.dumps(facts, indent=1))
        return 0
    changed_text = ", ".join(f"{k}={v!r}" for k, v in changed.items())
    print(f"{info.name}: {info.description}" + (f" ({changed_text})" if changed else ""))
    print(f"  family      {info.family}")
    print(f"  task        {info.task}")
    print(f"  paper       {info.paper}" + (f" ({info.year})" if info.year else ""))
    print(f"  input       {'x'.join(map(str, facts['input']))}")
    print(f"  params      {params:,} ({human(params)})")
    print(f"  labels      {info.labels or 'numbered classes'}")
    print("  torchvision " + ("no" if not info.torchvision else "weights load as-is"
                              if torchvision else f"its weights do not load with "
                              f"{changed_text} (other parameter names or shapes)"))
    print(f"  init        {info.initialisation}")
    print("  options:")
    for opt in info.options:
        value = chosen[opt.name]
        # a guessed value is no default: the help says it is a guess
        default = "" if value == opt.default or opt.guessed else f" (default {opt.default!r})"
        print(f"    {opt.name}={value!r}{default}  ({opt.allowed()}) {opt.help}")
    return 0


def _same_tensors(name: str, changed: dict) -> bool:
    """Whether the model with ``changed`` options has the default model's parameter and
    buffer names and shapes (so that a state dict of one loads strictly into the other):
    built on the meta device, no memory."""
    import torch

    def shapes(options: dict) -> dict:
        with torch.device("meta"):
            model = zoo.build(name, **options)
        return {k: tuple(v.shape) for k, v in model.state_dict().items()}

    return shapes(changed) == shapes({})


def _fold_spec(args: argparse.Namespace, graph):
    from ..graph import FoldSpec, default_spec

    expand = frozenset(args.expand or ())
    collapse = frozenset(args.collapse or ())
    depth = parse_depth(args.depth, ("auto", "full"))
    auto = None
    if depth in (None, "auto"):
        auto = default_spec(graph)  # the app's first view: runs as ×N, first blocks open
        depth = auto.depth
    elif depth == "full":
        depth = None
    known = set(graph.modules)
    for path in expand | collapse:
        if path not in known:
            close = ", ".join(sorted(p for p in known if p.startswith(path.split(".")[0]))[:8])
            hint = f"; try {close}" if close else ""
            raise CLIError(f"no block {path!r} in {graph.model}{hint}")
    if auto is not None:
        return FoldSpec(depth, (auto.expand - collapse) | expand, collapse, True)
    return FoldSpec(depth, expand, collapse, args.repeats)


def cmd_graph(args: argparse.Namespace) -> int:
    from ..export.files import check_destination
    from ..export.graph_export import write_graph
    from ..graph import TraceError, fold, layout, trace_zoo

    out = Path(args.output)
    if out.suffix.lower() not in (".dot", ".gv", ".json", ".svg", ".png"):
        raise CLIError(f"cannot write {out.name}: use .dot, .json, .svg or .png")
    check_destination(out)  # before the work: a bad -o fails at once
    try:
        graph = trace_zoo(args.name, parse_shape(args.input), **parse_options(args.option))
    except TraceError as exc:
        raise CLIError(str(exc)) from None
    view = fold(graph, _fold_spec(args, graph))
    lay = layout(view.nx, direction=args.direction, engine=args.engine,
                 arrangement=args.arrangement)
    for note in lay.notes:
        print(f"explorer: {note}", file=sys.stderr)
    try:
        scale = args.scale or (2.0 if out.suffix.lower() == ".png" else 1.0)
        write_graph(view, lay, out, scale=scale)
    except (OSError, ValueError) as exc:
        raise CLIError(f"{out}: {exc}") from None
    counts = ", ".join(f"{k} {v}" for k, v in view.edge_counts().items() if v)
    print(f"{out}: {len(view)} nodes, {view.nx.number_of_edges()} edges ({counts})")
    return 0


def _table(name: str, args: argparse.Namespace):
    from ..analysis import summarize
    from ..graph import FoldSpec, TraceError

    spec = None
    if getattr(args, "depth", None) is not None:
        spec = FoldSpec(depth=parse_depth(args.depth))
    try:
        return summarize(name, parse_shape(args.input), spec=spec, dtype=args.dtype,
                         **parse_options(args.option))
    except TraceError as exc:
        raise CLIError(str(exc)) from None


def cmd_summary(args: argparse.Namespace) -> int:
    from ..export import table_export as tx

    table = _table(args.name, args)
    writer = {"md": tx.table_markdown, "csv": tx.table_csv, "json": tx.table_json}[args.format]
    emit(writer(table), args.output)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from ..analysis import compare
    from ..export import table_export as tx

    result = compare(_table(args.a, args), _table(args.b, args))
    writer = {"md": tx.comparison_markdown, "csv": tx.comparison_csv,
              "json": tx.comparison_json}[args.format]
    emit(writer(result), args.output)
    return 0


def cmd_lessons(args: argparse.Namespace) -> int:
    from ..analysis.lessons import evaluate, fmt_value, get_lesson, load_lessons

    if not args.id:
        for lesson in load_lessons():
            print(f"{lesson.id:<26} {lesson.title}")
        return 0
    try:
        lesson = get_lesson(args.id)
    except KeyError as exc:
        raise CLIError(exc.args[0]) from None
    result = evaluate(lesson)
    print(f"{lesson.title}\n\n{lesson.claim}\n")
    for metric, values in result.figures.items():
        for label, value in zip(result.labels, values):
            print(f"  {metric:<16} {label:<34} {fmt_value(metric, value):>16}")
    print()
    for _, ok, text in result.checks:
        print(f"  {'holds' if ok else 'FAILS'}: {text}")
    return 0 if result.holds else 1
