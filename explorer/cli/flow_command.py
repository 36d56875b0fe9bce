"""``explorer flow``: one forward and backward pass through freshly initialised models,
the gradient and activation statistics per layer written as a plot, CSV or JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import CLIError, parse_options, parse_shape


def add_flow_parser(sub) -> None:
    from ..export.flow_export import MEASURES

    p = sub.add_parser("flow", help="gradient and activation flow of one backward pass "
                                    "(plain vs residual, side by side)")
    p.add_argument("models", nargs="+", metavar="MODEL")
    p.add_argument("-o", "--output", required=True,
                   help="flow.png or flow.svg (a plot over depth), flow.csv or flow.json")
    p.add_argument("--batch", type=int, help="batch size (default 8, or --input's N)")
    p.add_argument("--input", help="input shape N,C,H,W (default: each model's own)")
    p.add_argument("--mode", choices=("train", "eval"), default="train",
                   help="train: BN uses the batch's statistics (default)")
    p.add_argument("--labels", choices=("random", "top"), default="random",
                   help="the loss's targets: random classes, or the model's own top class")
    p.add_argument("--seed", type=int, default=0, help="weights, inputs and labels")
    p.add_argument("--measure", choices=tuple(MEASURES), default="grad_rms",
                   help="what the plot draws")
    p.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="a model option, for every model")
    p.set_defaults(func=cmd_flow)


def cmd_flow(args: argparse.Namespace) -> int:
    from ..export.files import check_destination
    from ..export.flow_export import WRITERS

    out = Path(args.output)
    if out.suffix.lower() not in WRITERS:
        raise CLIError(f"cannot write {out.name}: use {', '.join(WRITERS)}")
    check_destination(out)  # before the work: a bad -o fails at once
    shape = parse_shape(args.input)
    if args.batch is not None and not 1 <= args.batch <= 4096:
        raise CLIError(f"--batch takes 1 to 4096, not {args.batch}")
    options = parse_options(args.option)

    from ..analysis.flow import FlowError, flow_zoo
    from ..export.flow_export import write_flow
    from ..graph import TraceError

    results = []
    for name in args.models:
        model_shape = shape
        if shape and args.batch:
            model_shape = (args.batch, *shape[1:])
        try:
            result = flow_zoo(name, model_shape, batch=args.batch or 8, mode=args.mode,
                              labels=args.labels, seed=args.seed, **options)
        except (FlowError, TraceError) as exc:
            raise CLIError(str(exc)) from None
        results.append(result)
        try:
            ratio = f"first/last conv gradient RMS {result.first_over_last():.3g}"
        except FlowError:
            ratio = "no two weight layers"
        print(f"{name}: {len(result.weight_layers)} weight layers, loss "
              f"{result.loss:.3f}, {ratio}")
    try:
        write_flow(results, out, args.measure)
    except (OSError, ValueError) as exc:
        raise CLIError(f"{out}: {exc}") from None
    print(f"{out}: {len(results)} model{'s' if len(results) > 1 else ''}")
    return 0
