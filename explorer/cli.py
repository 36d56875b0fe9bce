"""Headless commands over the same core the app uses.

    explorer list [PATTERN] [--task T]
    explorer info NAME
    explorer graph NAME [--depth N] [--expand PATH ...] -o out.{dot,json,svg,png}
    explorer summary NAME [--input 1,3,224,224] [--option k=v ...] [--format md|csv|json]
    explorer compare A B
    explorer lessons [ID]

Every failure on bad input exits non-zero with one line on stderr, no traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


class CLIError(Exception):
    """A failure to report as one line on stderr."""


class _LazyZoo:
    """The zoo imports torch (1-2 s); the GUI launcher must not wait for it."""

    def __getattr__(self, name):
        from . import zoo as module

        return getattr(module, name)


zoo = _LazyZoo()


def _parse_options(pairs: list[str] | None) -> dict[str, str]:
    options = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CLIError(f"--option takes key=value, not {pair!r}")
        options[key.strip()] = value.strip()
    return options


def _parse_shape(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        shape = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        raise CLIError(f"--input takes numbers like 1,3,224,224, not {text!r}") from None
    if len(shape) != 4 or min(shape) < 1:
        raise CLIError(f"--input needs four positive sizes (N,C,H,W), not {text!r}")
    return shape


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
    from .export.table_export import human

    info = zoo.get_info(args.name)
    params = zoo.parameter_count(args.name, **_parse_options(args.option))
    print(f"{info.name}: {info.description}")
    print(f"  family      {info.family}")
    print(f"  task        {info.task}")
    print(f"  paper       {info.paper} ({info.year})")
    print(f"  input       {'x'.join(map(str, zoo.input_shape(args.name)))}")
    print(f"  params      {params:,} ({human(params)})")
    print(f"  labels      {info.labels or 'numbered classes'}")
    print(f"  torchvision {'weights load as-is' if info.torchvision else 'no'}")
    print("  options:")
    for opt in info.options:
        print(f"    {opt.name}={opt.default!r}  ({opt.allowed()}) {opt.help}")
    return 0


def _fold_spec(args: argparse.Namespace, graph):
    from .graph import FoldSpec, default_spec

    expand = frozenset(args.expand or ())
    collapse = frozenset(args.collapse or ())
    auto = None
    if args.depth in (None, "auto"):
        auto = default_spec(graph)  # the app's first view: runs as ×N, first blocks open
        depth = auto.depth
    elif args.depth == "full":
        depth = None
    else:
        try:
            depth = int(args.depth)
        except ValueError:
            raise CLIError(
                f"--depth takes a number, 'auto' or 'full', not {args.depth!r}") from None
        if depth < 1:
            raise CLIError("--depth must be at least 1")
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
    from .export.graph_export import write_graph
    from .graph import TraceError, fold, layout, trace_zoo

    out = Path(args.output)
    if out.suffix.lower() not in (".dot", ".gv", ".json", ".svg", ".png"):
        raise CLIError(f"cannot write {out.name}: use .dot, .json, .svg or .png")
    try:
        graph = trace_zoo(args.name, _parse_shape(args.input), **_parse_options(args.option))
    except TraceError as exc:
        raise CLIError(str(exc)) from None
    view = fold(graph, _fold_spec(args, graph))
    lay = layout(view.nx, direction=args.direction, engine=args.engine,
                 arrangement=args.arrangement)
    for note in lay.notes:
        print(f"explorer: {note}", file=sys.stderr)
    try:
        write_graph(view, lay, out, scale=args.scale)
    except (OSError, ValueError) as exc:
        raise CLIError(f"{out}: {exc}") from None
    counts = ", ".join(f"{k} {v}" for k, v in view.edge_counts().items() if v)
    print(f"{out}: {len(view)} nodes, {view.nx.number_of_edges()} edges ({counts})")
    return 0


def _table(name: str, args: argparse.Namespace):
    from .analysis import summarize
    from .graph import FoldSpec, TraceError

    spec = None
    if getattr(args, "depth", None):
        try:
            spec = FoldSpec(depth=int(args.depth))
        except ValueError:
            raise CLIError(f"--depth takes a number, not {args.depth!r}") from None
    try:
        return summarize(name, _parse_shape(args.input), spec=spec, dtype=args.dtype,
                         **_parse_options(args.option))
    except TraceError as exc:
        raise CLIError(str(exc)) from None


def cmd_summary(args: argparse.Namespace) -> int:
    from .export import table_export as tx

    table = _table(args.name, args)
    writer = {"md": tx.table_markdown, "csv": tx.table_csv, "json": tx.table_json}[args.format]
    _emit(writer(table), args.output)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .analysis import compare
    from .export import table_export as tx

    result = compare(_table(args.a, args), _table(args.b, args))
    writer = {"md": tx.comparison_markdown, "csv": tx.comparison_csv,
              "json": tx.comparison_json}[args.format]
    _emit(writer(result), args.output)
    return 0


def cmd_lessons(args: argparse.Namespace) -> int:
    from .analysis.lessons import evaluate, get_lesson, load_lessons

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
            print(f"  {metric:<16} {label:<34} {int(value):>16,}")
    print()
    for _, ok, text in result.checks:
        print(f"  {'holds' if ok else 'FAILS'}: {text}")
    return 0 if result.holds else 1


def cmd_run(args: argparse.Namespace) -> int:
    import json

    import torch

    from .graph import TraceError, trace
    from .inference.devices import choose_device, choose_dtype
    from .inference.imaging import ImageError
    from .inference.predictions import colorize, overlay
    from .inference.render import channel_grid, grid_image, top_channels
    from .inference.runner import run_image
    from .inference.weights import WeightsError, load_weights

    options = _parse_options(args.option)
    info = zoo.get_info(args.name)
    try:
        device = choose_device(args.device)
        dtype = choose_dtype(args.dtype, device)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    model = zoo.build(args.name, **options)
    if args.weights:
        try:
            load_weights(model, args.weights)
        except WeightsError as exc:
            raise CLIError(str(exc).replace("\n", "; ")) from None
    shape = _parse_shape(args.input) or zoo.input_shape(args.name, **options)
    try:
        graph = trace(model, shape, name=args.name)
    except TraceError as exc:
        raise CLIError(str(exc)) from None
    try:
        requested = {name: graph.resolve(name) for name in args.layer or []}
    except KeyError as exc:
        raise CLIError(exc.args[0]) from None
    layers = list(dict.fromkeys(requested.values()))
    out = Path(args.output)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"cannot create {out}: {exc.strerror}") from None
    model.to(device=device, dtype=dtype).eval()
    try:
        result = run_image(model, info, graph, args.image, layers, device, dtype)
    except ImageError as exc:
        raise CLIError(str(exc)) from None
    except torch.cuda.OutOfMemoryError:
        raise CLIError(f"{args.image}: out of GPU memory on {device}; try --device cpu") from None
    pred = result.prediction(args.name, str(device), args.weights)
    (out / "prediction.json").write_text(json.dumps(pred, indent=1))
    if result.mask is not None:
        overlay(result.image, result.mask, 0.5).save(out / "overlay.png")
        colorize(result.mask).save(out / "mask.png")
    for name, layer in requested.items():
        act = result.capture.get(layer)
        channels = top_channels(act, 64) if act.dim() >= 3 and act.shape[-3] > 64 else None
        grid, _ = channel_grid(act, channels)
        scale = max(1, 256 // max(grid.shape))
        grid_image(grid, scale).save(out / f"features_{name.replace(':', '_')}.png")
    if info.task == "classification":
        best = pred["top_k"][0]
        print(f"{args.image}: {best['label']} ({100 * best['prob']:.1f}%) on {device}")
    else:
        print(f"{args.image}: {len(pred['classes'])} classes in the mask on {device}")
    print(f"wrote {out}/prediction.json" + (", overlay.png" if result.mask is not None else "")
          + (f" and {len(layers)} feature grids" if layers else ""))
    return 0


def _emit(text: str, output: str | None) -> None:
    if output:
        try:
            Path(output).write_text(text)
        except OSError as exc:
            raise CLIError(f"cannot write {output}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="explorer", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list the models in the zoo")
    p.add_argument("pattern", nargs="?", help="shell glob, e.g. 'resnet*'")
    p.add_argument("--task", choices=zoo.registry.TASKS)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="describe one model and its options")
    p.add_argument("name")
    p.add_argument("--option", action="append", metavar="KEY=VALUE")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("graph", help="trace, fold, lay out and export the layer graph")
    p.add_argument("name")
    p.add_argument("-o", "--output", required=True, help="out.dot, out.json, out.svg or out.png")
    p.add_argument("--depth", help="fold level: a number, 'auto' (default) or 'full'")
    p.add_argument("--expand", nargs="+", metavar="PATH", help="blocks to unfold")
    p.add_argument("--collapse", nargs="+", metavar="PATH", help="blocks to fold")
    p.add_argument("--repeats", action="store_true", help="identical blocks in a row as ×N")
    p.add_argument("--direction", choices=("TB", "LR"), default="TB")
    p.add_argument("--engine", choices=("layered", "dot"), default="layered")
    p.add_argument("--arrangement", choices=("auto", "column", "u"), default="auto",
                   help="u: encoder down the left, decoder up the right (auto: where the "
                        "view has skip or index links)")
    p.add_argument("--scale", type=float, default=1.0, help="PNG scale factor")
    p.add_argument("--input", help="input shape N,C,H,W (default: the model's)")
    p.add_argument("--option", action="append", metavar="KEY=VALUE")
    p.set_defaults(func=cmd_graph)

    def table_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--input", help="input shape N,C,H,W (default: the model's)")
        p.add_argument("--option", action="append", metavar="KEY=VALUE")
        p.add_argument("--format", choices=("md", "csv", "json"), default="md")
        p.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default="float32",
                       help="element type for activation memory")
        p.add_argument("-o", "--output", help="write to a file instead of stdout")

    p = sub.add_parser("summary", help="per-layer parameters, MACs, memory, receptive field")
    p.add_argument("name")
    p.add_argument("--depth", help="one row per block at this fold level (default: every layer)")
    table_args(p)
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("compare", help="two models side by side")
    p.add_argument("a")
    p.add_argument("b")
    table_args(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("run", help="run an image through a model: prediction, overlay, "
                                   "feature maps")
    p.add_argument("name")
    p.add_argument("image")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--weights", help="a .pth, .pt or .safetensors state dict")
    p.add_argument("--layer", nargs="+", metavar="PATH", help="layers whose feature maps to save")
    p.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: the best available)")
    p.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default="float32")
    p.add_argument("--input", help="input shape N,C,H,W (default: the model's)")
    p.add_argument("--option", action="append", metavar="KEY=VALUE")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("lessons", help="list the lessons, or check one against computed figures")
    p.add_argument("id", nargs="?")
    p.set_defaults(func=cmd_lessons)

    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv == ["--self-test"] or all(Path(a).is_file() for a in argv):
        from .app.main import launch  # no arguments, or files to open ("Open with"): the GUI

        return launch(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except CLIError as exc:
        print(f"explorer: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # ZooError and the core's other input errors
        if not isinstance(exc, zoo.ZooError):
            raise
        print(f"explorer: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
