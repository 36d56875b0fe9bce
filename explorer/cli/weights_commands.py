"""Published weight sets on the command line: the ``weights`` command (list, download),
and what ``run --weights`` needs to name a set, fit its options and fetch its file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import CLIError, zoo


def published_set(model: str, spec: str | None):
    """The catalogue's set that ``--weights`` names ('pretrained' or a set name), or None
    when it names a file (or is not given)."""
    from ..inference.catalogue import CatalogueError, get_weight_set

    if not spec or Path(spec).suffix.lower() in (".pth", ".pt", ".safetensors", ".bin") \
            or Path(spec).exists():
        return None
    try:
        return get_weight_set(model, spec)
    except CatalogueError as exc:
        raise CLIError(f"--weights {spec}: not a file, and {exc}") from None


def options_for(ws, info, options: dict) -> dict:
    """The set's options, with the person's own where they do not contradict them."""
    chosen = info.resolve(options)
    for key in options:
        if key in ws.options and chosen[key] != ws.options[key]:
            raise CLIError(f"--option {key}={options[key]} does not fit {ws.label}, which "
                           f"needs {key}={ws.options[key]}")
    return {**options, **ws.options}


def fetch_set(ws) -> Path:
    """The set's file from the cache, or downloaded with a progress bar on a terminal."""
    from ..inference.download import DownloadError, fetch, source_url

    try:
        if ws.is_cached():
            return fetch(ws)  # checked against its published hash first
        source_url(ws)  # a bad mirror address is said before "downloading"
    except DownloadError as exc:
        raise CLIError(str(exc)) from None
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
    from ..inference.catalogue import (
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
        path = fetch_set(ws)
        print(f"{ws.model} {ws.label}: {path}")
        return 0
    if model:
        zoo.get_info(model)  # an unknown name fails with the known ones
    sets = weight_sets(model) if model else sorted(load_catalogue().sets,
                                                   key=lambda s: (s.model, not s.default))
    if not sets:
        why = [t for t in load_catalogue().left_out if model in t]
        from ..inference.next_steps import next_steps

        steps = next_steps(model) if model else None
        ways = (["the demo: explorer run unet_padded IMAGE --weights demo"] if steps and
                steps.demo else []) + [f"explorer weights {m}" for m in
                                       (steps.related if steps else ())]
        raise CLIError(f"no published weights for {model}" + (f": {why[0]}" if why else "")
                       + (f"; try {'; '.join(ways)}" if ways else ""))
    width = max(len(s.model) for s in sets)
    for s in sets:
        name = s.name + (" *" if s.default else "")
        cached = "cached" if s.is_cached() else "-"
        print(f"{s.model:<{width}}  {name:<26} {s.publisher:<11} {s.size_text():>15}  "
              f"{cached:<6}  {s.dataset}: {s.metrics_text()}")
    print(f"(* default; files are cached in {checkpoint_dir()}; "
          f"explorer weights download MODEL [--set NAME])")
    return 0
