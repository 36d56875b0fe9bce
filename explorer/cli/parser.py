"""The argument parser: every command, its arguments and the function that runs it."""

from __future__ import annotations

import argparse

from .common import parse_scale, zoo
from .diff_command import cmd_diff
from .flow_command import add_flow_parser
from .model_commands import cmd_compare, cmd_graph, cmd_info, cmd_lessons, cmd_list, cmd_summary
from .run_command import cmd_run
from .train_command import add_train_parser
from .weights_commands import cmd_weights

DESCRIPTION = "Headless commands over the same core the app uses."


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (no usage block)."""

    def error(self, message: str):
        self.exit(2, f"explorer: {self.prog.removeprefix('explorer ')}: {message}\n"
                  if self.prog != "explorer" else f"explorer: {message}\n")


def _table_args(p: argparse.ArgumentParser) -> None:
    """What summary and compare share: the input, options and the table's format."""
    p.add_argument("--input", help="input shape N,C,H,W (default: the model's)")
    p.add_argument("--option", action="append", metavar="KEY=VALUE")
    p.add_argument("--format", choices=("md", "csv", "json"), default="md")
    p.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default="float32",
                   help="element type for activation memory")
    p.add_argument("-o", "--output", help="write to a file instead of stdout")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="explorer", description=DESCRIPTION)
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
    p.add_argument("--scale", type=parse_scale, default=None,
                   help="size factor (0.05-16): PNG pixels per unit (default 2: sharp "
                        "text), the size an SVG declares (default 1)")
    p.add_argument("--input", help="input shape N,C,H,W (default: the model's)")
    p.add_argument("--option", action="append", metavar="KEY=VALUE")
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser("summary", help="per-layer parameters, MACs, memory, receptive field")
    p.add_argument("name")
    p.add_argument("--depth", help="one row per block at this fold level (default: every layer)")
    _table_args(p)
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("compare", help="two models side by side")
    p.add_argument("a")
    p.add_argument("b")
    _table_args(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("diff", help="two models' graphs matched, the difference drawn "
                                    "side by side or listed")
    p.add_argument("a", help="NAME, NAME:key=value,... or a model file")
    p.add_argument("b", help="the model to compare it with")
    p.add_argument("-o", "--output", required=True, help="out.svg, out.png, out.json or out.md")
    p.add_argument("--depth", help="fold level of both: a number, 'auto' (default: the "
                                   "finer of the two first views) or 'full'")
    p.add_argument("--scale", type=parse_scale, default=None,
                   help="PNG scale factor (0.05-16; default 2: sharp text)")
    p.add_argument("--input", help="input shape N,C,H,W (default: each model's)")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("run", help="run an image through a model: prediction, overlay, "
                                   "feature maps")
    p.add_argument("name")
    p.add_argument("image")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--weights", help="'pretrained' (the default published set), a set name "
                                     "(explorer weights MODEL), 'demo' (unet_padded trained "
                                     "on shapes), or a .pth, .pt or .safetensors state dict")
    p.add_argument("--layer", nargs="+", metavar="PATH", help="layers whose feature maps to save")
    p.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: the best available)")
    p.add_argument("--dtype", choices=("float32", "tf32", "bfloat16", "float16"),
                   default="float32", help="float32 is IEEE float32 on every device; tf32 "
                   "lets CUDA round convolutions and matmuls to TF32 (faster, ~3 digits)")
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

    add_train_parser(sub)
    add_flow_parser(sub)
    return parser
