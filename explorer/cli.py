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
import math
import os
import sys
from pathlib import Path

from .inference.limits import MAX_INPUT_ELEMENTS, MAX_INPUT_SIDE

# what "explorer FILE..." opens in the window (the desktop entry's types)
GUI_SUFFIXES = (".py", ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")


class CLIError(Exception):
    """A failure to report as one line on stderr."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (no usage block)."""

    def error(self, message: str):
        self.exit(2, f"explorer: {self.prog.removeprefix('explorer ')}: {message}\n"
                  if self.prog != "explorer" else f"explorer: {message}\n")


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
    if max(shape) > MAX_INPUT_SIDE or math.prod(shape) > MAX_INPUT_ELEMENTS:
        raise CLIError(f"--input {text} is too large: each size at most {MAX_INPUT_SIDE:,}, "
                       f"and N*C*H*W at most {MAX_INPUT_ELEMENTS:,}")
    return shape


def _depth(text: str | None, words: tuple[str, ...] = ()) -> int | str | None:
    """A fold depth: a whole number from 1, or one of ``words``."""
    if text is None or text in words:
        return text
    try:
        depth = int(text)
    except ValueError:
        allowed = "a number" + "".join(f", {w!r}" for w in words)
        raise CLIError(f"--depth takes {allowed}, not {text!r}") from None
    if depth < 1:
        raise CLIError(f"--depth must be at least 1, not {depth}")
    return depth


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0.05 <= value <= 16):
        raise argparse.ArgumentTypeError(f"takes a number from 0.05 to 16, not {text!r}")
    return value


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

    if args.layer:  # one layer: attributes and weight statistics (builds the model)
        import json

        from .analysis.layer_info import inspect_layer, layer_text

        layer = inspect_layer(args.name, args.layer, _parse_options(args.option))
        print(json.dumps(layer.as_dict(), indent=1) if args.format == "json"
              else layer_text(layer))
        return 0
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
    depth = _depth(args.depth, ("auto", "full"))
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
    from .export.files import check_destination
    from .export.graph_export import write_graph
    from .graph import TraceError, fold, layout, trace_zoo

    out = Path(args.output)
    if out.suffix.lower() not in (".dot", ".gv", ".json", ".svg", ".png"):
        raise CLIError(f"cannot write {out.name}: use .dot, .json, .svg or .png")
    check_destination(out)  # before the work: a bad -o fails at once
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
    if getattr(args, "depth", None) is not None:
        spec = FoldSpec(depth=_depth(args.depth))
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
    from .export.files import (
        check_destination,
        check_folder,
        save_image_atomic,
        write_text_atomic,
    )
    from .inference.imaging import load_image

    options = _parse_options(args.option)
    info = zoo.get_info(args.name)
    out = check_folder(args.output, create=False)  # every check before any work or file
    outputs = ["prediction.json", *(f"features_{n.replace(':', '_')}.png" for n in args.layer
                                    or [])]
    outputs += ["overlay.png", "mask.png"] if info.task == "segmentation" else []
    if out.is_dir():
        for name in outputs:
            check_destination(out / name)
    image = load_image(args.image)  # before torch loads: a bad image fails in a blink

    import torch

    from .graph import trace
    from .inference.devices import choose_device, choose_dtype
    from .inference.predictions import colorize, overlay, prediction_json
    from .inference.render import channel_grid, grid_image, top_channels
    from .inference.runner import OutOfMemory, run_image
    from .inference.weights import load_weights

    try:
        device = choose_device(args.device)
        dtype = choose_dtype(args.dtype, device)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    ws = _published_set(args.name, args.weights)
    if ws is not None:
        if args.input:
            raise CLIError(f"--input: {ws.label} brings its own preprocessing and input size; "
                           f"leave --input out")
        options = _options_for(ws, info, options)
    model = zoo.build(args.name, **options)
    if ws is not None:
        report = load_weights(model, _fetch(ws), remap=ws.remap)
    elif args.weights:
        report = load_weights(model, args.weights)
    if args.weights and report.warning:
        print(f"explorer: warning: {report.warning}", file=sys.stderr)
    shape = _parse_shape(args.input) or zoo.input_shape(args.name, **options)
    if ws is not None:  # the input size the set was evaluated at
        shape = (1, shape[1], *reversed(ws.recipe.input_size(image.size)))
    graph = trace(model, shape, name=args.name)
    try:
        requested = {name: graph.resolve(name) for name in args.layer or []}
    except KeyError as exc:  # the graph's lookup error says which layer and what exists
        raise CLIError(exc.args[0]) from None
    layers = list(dict.fromkeys(requested.values()))
    model.to(device=device, dtype=dtype).eval()
    try:
        result = run_image(model, info, graph, image, layers, device, dtype,
                           recipe=ws.recipe if ws else None, labels=ws.labels if ws else None)
    except OutOfMemory as exc:
        hint = "; try --device cpu" if exc.device.startswith(("cuda", "mps")) else ""
        raise CLIError(f"{args.image}: {exc}{hint}") from None
    except torch.OutOfMemoryError:
        raise CLIError(f"{args.image}: out of GPU memory on {device}; try --device cpu") from None
    pred = result.prediction(args.name, str(device), ws.label if ws else args.weights)
    for warning in result.warnings:
        print(f"explorer: warning: {args.image}: {warning}", file=sys.stderr)
    check_folder(out)
    write_text_atomic(out / "prediction.json", prediction_json(pred))
    if result.mask is not None:
        save_image_atomic(out / "overlay.png", overlay(result.image, result.mask, 0.5))
        save_image_atomic(out / "mask.png", colorize(result.mask))
    for name, layer in requested.items():
        act = result.capture.get(layer)
        channels = top_channels(act, 64) if act.dim() >= 3 and act.shape[-3] > 64 else None
        grid, _ = channel_grid(act, channels)
        scale = max(1, 256 // max(grid.shape))
        save_image_atomic(out / f"features_{name.replace(':', '_')}.png", grid_image(grid, scale))
    if info.task == "classification":
        best = pred["top_k"][0]
        prob = (f"{100 * best['prob']:.1f}%" if math.isfinite(best["prob"])
                else "no valid probability")
        print(f"{args.image}: {best['label']} ({prob}) on {device}")
    else:
        print(f"{args.image}: {len(pred['classes'])} classes in the mask on {device}")
    print(f"wrote {out}/prediction.json" + (", overlay.png" if result.mask is not None else "")
          + (f" and {len(layers)} feature grids" if layers else ""))
    return 0


def _published_set(model: str, spec: str | None):
    """The catalogue's set that ``--weights`` names ('pretrained' or a set name), or None
    when it names a file (or is not given)."""
    from .inference.catalogue import CatalogueError, get_weight_set

    if not spec or Path(spec).suffix.lower() in (".pth", ".pt", ".safetensors", ".bin") \
            or Path(spec).exists():
        return None
    try:
        return get_weight_set(model, spec)
    except CatalogueError as exc:
        raise CLIError(f"--weights {spec}: not a file, and {exc}") from None


def _options_for(ws, info, options: dict) -> dict:
    """The set's options, with the person's own where they do not contradict them."""
    chosen = info.resolve(options)
    for key in options:
        if key in ws.options and chosen[key] != ws.options[key]:
            raise CLIError(f"--option {key}={options[key]} does not fit {ws.label}, which "
                           f"needs {key}={ws.options[key]}")
    return {**options, **ws.options}


def _fetch(ws) -> Path:
    """The set's file from the cache, or downloaded with a progress bar on a terminal."""
    from .inference.download import DownloadError, fetch

    if ws.is_cached():
        return ws.cache_path()
    tty = sys.stderr.isatty()
    print(f"downloading {ws.model} {ws.label}, {ws.size_text()}, into {ws.cache_path().parent}",
          file=sys.stderr)

    def bar(done: int, total: int | None) -> None:
        mib = f"{done / 2**20:6.1f}" + (f" / {total / 2**20:.1f} MiB" if total else " MiB")
        pct = f" {100 * done // total:3d}%" if total else ""
        filled = 30 * done // total if total else 0
        sys.stderr.write(f"\r  [{'#' * filled}{'.' * (30 - filled)}] {mib}{pct}")
        sys.stderr.flush()

    try:
        path = fetch(ws, progress=bar if tty else None)
    except DownloadError as exc:
        if tty:
            sys.stderr.write("\n")
        raise CLIError(str(exc)) from None
    except KeyboardInterrupt:  # fetch has removed its temporary file
        raise CLIError(f"{ws.file_name}: download interrupted; nothing was kept") from None
    if tty:
        sys.stderr.write("\n")
    return path


def cmd_weights(args: argparse.Namespace) -> int:
    from .inference.catalogue import (
        CatalogueError,
        checkpoint_dir,
        get_weight_set,
        load_catalogue,
        weight_sets,
    )

    model = args.target if args.model == "download" else args.model
    if args.model == "download":
        if not model:
            raise CLIError("weights download: which model? e.g. explorer weights download "
                           "resnet50 --set IMAGENET1K_V2")
        zoo.get_info(model)
        try:
            ws = get_weight_set(model, args.set)
        except CatalogueError as exc:
            raise CLIError(str(exc)) from None
        path = _fetch(ws)
        print(f"{ws.model} {ws.label}: {path}")
        return 0
    if model:
        zoo.get_info(model)  # an unknown name fails with the known ones
    sets = weight_sets(model) if model else sorted(load_catalogue().sets,
                                                   key=lambda s: (s.model, not s.default))
    if not sets:
        why = [t for t in load_catalogue().left_out if model in t]
        raise CLIError(f"no published weights for {model}" + (f": {why[0]}" if why else ""))
    width = max(len(s.model) for s in sets)
    for s in sets:
        name = s.name + (" *" if s.default else "")
        cached = "cached" if s.is_cached() else "-"
        print(f"{s.model:<{width}}  {name:<26} {s.publisher:<11} {s.size_text():>15}  "
              f"{cached:<6}  {s.dataset}: {s.metrics_text()}")
    print(f"(* default; files are cached in {checkpoint_dir()}; "
          f"explorer weights download MODEL [--set NAME])")
    return 0


def _emit(text: str, output: str | None) -> None:
    from .export.files import write_text_atomic

    if output:
        write_text_atomic(output, text)
    else:
        sys.stdout.write(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="explorer", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list the models in the zoo")
    p.add_argument("pattern", nargs="?", help="shell glob, e.g. 'resnet*'")
    p.add_argument("--task", choices=zoo.registry.TASKS)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="describe one model and its options, or one layer")
    p.add_argument("name")
    p.add_argument("--option", action="append", metavar="KEY=VALUE")
    p.add_argument("--layer", metavar="PATH", help="one layer's attributes and weights")
    p.add_argument("--format", choices=("text", "json"), default="text")
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
    p.add_argument("--scale", type=_scale, default=1.0, help="PNG scale factor (0.05-16)")
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
    p.add_argument("--weights", help="'pretrained' (the default published set), a set name "
                                     "(explorer weights MODEL), or a .pth, .pt or "
                                     ".safetensors state dict")
    p.add_argument("--layer", nargs="+", metavar="PATH", help="layers whose feature maps to save")
    p.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: the best available)")
    p.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default="float32")
    p.add_argument("--input", help="input shape N,C,H,W (default: the model's)")
    p.add_argument("--option", action="append", metavar="KEY=VALUE")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("weights", help="published weight sets: list them, or download one "
                                       "(weights download MODEL [--set NAME])")
    p.add_argument("model", nargs="?", help="a model, or 'download'")
    p.add_argument("target", nargs="?", help="the model to download")
    p.add_argument("--set", help="the set to download (default: the model's default)")
    p.set_defaults(func=cmd_weights)

    p = sub.add_parser("lessons", help="list the lessons, or check one against computed figures")
    p.add_argument("id", nargs="?")
    p.set_defaults(func=cmd_lessons)

    return parser


def _opens_in_window(arg: str) -> bool:
    """A file the window opens: a known suffix or ``path.py:Name``. Anything else is a
    command word, even when a file of that name exists (a file called ``list``)."""
    path = Path(arg.rpartition(":")[0] if ".py:" in arg else arg)
    return path.suffix.lower() in GUI_SUFFIXES and path.is_file()


def _has_display() -> bool:
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or platform and not platform.startswith(
            ("xcb", "wayland")):
        return True  # macOS, Windows, or a platform plugin chosen on purpose (offscreen)
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _probe_user_models(args: argparse.Namespace) -> None:
    """A model file named on the command line runs in a time- and memory-limited child
    process first: a hang or sys.exit there becomes one message, not a stuck CLI."""
    specs = [getattr(args, key, None) for key in ("name", "a", "b")]
    specs = [s for s in specs if isinstance(s, str) and ".py" in s]
    if not specs:
        return
    from .probe import probe
    from .usermodel import is_user_model

    shape = _parse_shape(getattr(args, "input", None))
    for spec in specs:
        if is_user_model(spec):
            probe(spec, shape)


def _one_line(exc: BaseException) -> str:
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return "; ".join(line.strip() for line in str(text).splitlines() if line.strip()) or \
        type(exc).__name__


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"explorer: warning: {_one_line(Warning(str(message)))}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    """The one error path of every command. The core's own errors (bad input: a model,
    an option, an image, weights, a destination) print one line and exit 2; anything
    else is a bug and prints one line too ("internal error", status 3), never a
    traceback unless EXPLORER_DEBUG is set."""
    import warnings

    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            _probe_user_models(args)
            return args.func(args)
        except BrokenPipeError:
            return 0
        except KeyboardInterrupt:
            print("explorer: interrupted", file=sys.stderr)
            return 130
        except MemoryError:
            print("explorer: out of memory", file=sys.stderr)
            return 2
        except Exception as exc:  # noqa: BLE001  (this is the one place that reports)
            if isinstance(exc, CLIError) or type(exc).__module__.startswith("explorer."):
                print(f"explorer: {_one_line(exc)}", file=sys.stderr)
                return 2
            if os.environ.get("EXPLORER_DEBUG"):
                raise
            print(f"explorer: internal error: {type(exc).__name__}: {_one_line(exc)} "
                  "(a bug; EXPLORER_DEBUG=1 shows where)", file=sys.stderr)
            return 3


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if getattr(sys, "frozen", False):  # the user-model probe's child in a bundle
        import multiprocessing

        multiprocessing.freeze_support()
    if not argv or argv == ["--self-test"] or all(_opens_in_window(a) for a in argv):
        if not _has_display():
            print("explorer: no display to open the window on (DISPLAY and WAYLAND_DISPLAY "
                  "are unset); the commands need none: explorer --help", file=sys.stderr)
            return 2
        from .app.main import launch  # no arguments, or files to open ("Open with"): the GUI

        return launch(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return _run(args)
