"""Screenshots of the real window on an X display (Xvfb), one per seed network, exactly as
a person sees it after picking the network: no click, default view.

    Xvfb :99 -screen 0 1600x1000x24 &
    DISPLAY=:99 .venv/bin/python packaging/window_screenshots.py [out_dir] [--models NAME ...]

Each network is opened by a fresh app process (its own settings folder, the network as
the last one used), captured with ImageMagick's ``import`` once the first graph is shown
and the screen has stopped changing. The gallery keeps the graph panel (graph, overview,
legend) cut from the window: ``out_dir/NAME.png``; ``--windows DIR`` keeps the whole
windows too."""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEEDS = ["lenet5", "alexnet", "vgg16", "googlenet", "inception_v3", "resnet34", "resnet50",
         "resnet34_plain", "preact_resnet50", "se_resnet50", "densenet121", "mobilenet_v1",
         "mobilenet_v2", "shufflenet_v1_g3", "xception", "fcn8s", "unet", "segnet",
         "deconvnet"]
ROOT = Path(__file__).resolve().parents[1]


def screen_digest() -> str:
    png = subprocess.run(["import", "-window", "root", "png:-"], capture_output=True,
                         check=True).stdout
    return hashlib.sha256(png).hexdigest()


def wait_until_still(timeout: float = 20.0) -> None:
    """The screen is taken once two captures half a second apart are the same."""
    last, end = None, time.monotonic() + timeout
    while time.monotonic() < end:
        digest = screen_digest()
        if digest == last:
            return
        last = digest
        time.sleep(0.5)


def capture(name: str, out: Path, windows: Path) -> None:
    with tempfile.TemporaryDirectory() as config:
        folder = Path(config, "ArchitectureExplorer")
        folder.mkdir()
        (folder / "explorer.conf").write_text(f"[General]\nlast_model={name}\n")
        env = dict(os.environ, XDG_CONFIG_HOME=config, EXPLORER_REPORT_STARTUP="1")
        app = subprocess.Popen([sys.executable, "-m", "explorer"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, text=True)
        try:
            for line in app.stdout:
                if line.startswith("first graph shown"):
                    panel = line.split("graph panel ")[1].split()[0]  # WxH+X+Y
                    break
            else:
                raise SystemExit(f"{name}: the app ended before showing a graph")
            window = subprocess.run(["xdotool", "search", "--sync", "--name",
                                     "Architecture Explorer"], capture_output=True,
                                    text=True, check=True).stdout.split()[0]
            subprocess.run(["xdotool", "windowmove", "--sync", window, "0", "0"], check=True)
            shell = subprocess.run(["xdotool", "getwindowgeometry", "--shell", window],
                                   capture_output=True, text=True, check=True).stdout
            size = dict(line.split("=") for line in shell.split())
            geometry = f"{size['WIDTH']}x{size['HEIGHT']}"  # 1400x900 on a first start
            wait_until_still()
            # The root window, cut to the app's: Qt's GL-backed window reads back black
            # when captured on its own.
            whole = windows / f"{name}.png"
            subprocess.run(["import", "-window", "root", "-crop", f"{geometry}+0+0",
                            "+repage", str(whole)], check=True)
            subprocess.run(["convert", str(whole), "-crop", panel, "+repage",
                            str(out / f"{name}.png")], check=True)
        finally:
            app.terminate()
            app.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", default="resources/screenshots/diagrams")
    parser.add_argument("--models", nargs="*", default=SEEDS)
    parser.add_argument("--windows", help="also keep the whole windows in this folder")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        raise SystemExit("no DISPLAY: start Xvfb and set DISPLAY (see the docstring)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    windows = Path(args.windows or tempfile.mkdtemp())
    windows.mkdir(parents=True, exist_ok=True)
    for name in args.models:
        capture(name, out, windows)
        print(f"{name}: {out / (name + '.png')}", flush=True)


if __name__ == "__main__":
    main()
