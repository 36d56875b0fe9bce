"""``explorer run``: one image through a model, written as a prediction, an overlay and
feature-map grids."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..zoo import carries_weights
from .common import CLIError, parse_options, parse_shape, zoo
from .weights_commands import fetch_set, options_for, published_set


def cmd_run(args: argparse.Namespace) -> int:
    from ..export.files import (
        check_destination,
        check_folder,
        save_image_atomic,
        write_text_atomic,
    )
    from ..inference.imaging import load_image

    options = parse_options(args.option)
    info = zoo.get_info(args.name)
    out = check_folder(args.output, create=False)  # every check before any work or file
    outputs = ["prediction.json", *(f"features_{n.replace(':', '_')}.png" for n in args.layer
                                    or [])]
    outputs += ["overlay.png", "mask.png"] if info.task == "segmentation" else []
    if out.is_dir():
        for name in outputs:
            check_destination(out / name)
    image = load_image(args.image)  # before torch loads: a bad image fails in a blink

    from ..graph import trace
    from ..inference.devices import choose_device, choose_dtype
    from ..inference.failures import DeviceError, OutOfMemory, move_model, on_gpu
    from ..inference.predictions import colorize, overlay, prediction_json
    from ..inference.render import channel_grid, grid_image, top_channels
    from ..inference.runner import run_image
    from ..inference.weights import load_weights

    try:
        device = choose_device(args.device)
        dtype = choose_dtype(args.dtype, device)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    demo = _demo(args) if args.weights == "demo" else None
    ws = published_set(args.name, args.weights) if demo is None else None
    trained = None
    if demo is not None:  # the demo brings its options, input size and class names
        from ..inference.next_steps import DEMO_LABELS

        options = {**demo["options"], **options}
        trained = (options, DEMO_LABELS)
    elif ws is None and args.weights:  # a training run's weights bring their options
        from ..training.run import run_options

        trained = run_options(Path(args.weights))
        if trained is not None:
            options = {**trained[0], **options}
    if ws is not None:
        if args.input:
            raise CLIError(f"--input: {ws.label} brings its own preprocessing and input size; "
                           f"leave --input out")
        options = options_for(ws, info, options)
    model = zoo.build(args.name, **options)
    if ws is not None:
        report = load_weights(model, fetch_set(ws), remap=ws.remap)
    elif args.weights:
        report = load_weights(model, args.weights)
    if args.weights and report.warning:
        print(f"explorer: warning: {report.warning}", file=sys.stderr)
    shape = parse_shape(args.input) or zoo.input_shape(args.name, **options)
    if demo is not None and not args.input:  # the size it was trained at
        shape = (1, options["in_channels"], demo["input_size"], demo["input_size"])
    if ws is not None:  # the input size the set was evaluated at
        shape = (1, shape[1], *reversed(ws.recipe.input_size(image.size)))
    graph = trace(model, shape, name=args.name)
    try:
        requested = {name: graph.resolve(name) for name in args.layer or []}
    except KeyError as exc:  # the graph's lookup error says which layer and what exists
        raise CLIError(exc.args[0]) from None
    layers = list(dict.fromkeys(requested.values()))
    try:
        move_model(model, device, dtype).eval()
        result = run_image(model, info, graph, image, layers, device, dtype,
                           recipe=ws.recipe if ws else None,
                           labels=ws.labels if ws else trained and trained[1],
                           tf32=args.dtype == "tf32")
    except (OutOfMemory, DeviceError) as exc:  # a full card, a broken driver: one line
        hint = "; try --device cpu" if on_gpu(exc) else ""
        raise CLIError(f"{args.image}: {exc}{hint}") from None
    in_file = carries_weights(args.name) and not args.weights  # its own weights
    pred = result.prediction(args.name, str(device), ws.label if ws else args.weights
                             or ("weights in the file" if in_file else None))
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
        print(f"{args.image}: {best['label']} ({prob}) on {device}"
              + ("" if ws or args.weights or in_file else ", untrained weights"))
    else:
        n = len(pred["classes"])
        print(f"{args.image}: {n} {'class' if n == 1 else 'classes'} in the mask on {device}"
              + ("" if ws or args.weights or in_file else ", untrained weights"))
    print(f"{args.image}: {result.geometry.text()}\n"  # never silently scaled
          f"  preprocessing: {result.geometry.steps_text()}")
    print(f"wrote {out}/prediction.json" + (", overlay.png" if result.mask is not None else "")
          + (f" and {len(layers)} feature grids" if layers else ""))
    if not (ws or args.weights or in_file):  # random weights: say so, and what would change it
        from ..inference.next_steps import cli_note, next_steps

        print(cli_note(next_steps(args.name)))
    return 0


def _demo(args: argparse.Namespace) -> dict:
    """``--weights demo``: the shipped U-Net trained on shapes, with its file resolved."""
    from ..assets import RESOURCES
    from ..inference.next_steps import demo_meta

    meta = demo_meta()
    if meta is None:
        raise CLIError("--weights demo: resources/demo/demo.json is missing")
    if args.name != meta["model"]:
        raise CLIError(f"--weights demo: the demo weights are {meta['model']}'s (trained on "
                       f"shapes): explorer run {meta['model']} IMAGE --weights demo")
    args.weights = str(RESOURCES / "demo" / meta["weights"])
    return meta
