"""Peak memory of one image through ResNet-18 on the CPU: the naive path ("before": Pillow
decodes the whole file, 16-bit goes through float64, the crop resizes the short side to
256 whatever the long side) next to ``run_image`` ("after": working size from the
header, bounded decode, strips refused).

    python benchmarks/image_memory_bench.py [--cap-gb 4]

Each case runs in its own process. The figure is peak RSS minus the RSS once the model
is built and has run one small image (the model's own footprint), so it is what the
image costs. "before" runs under an address-space cap (--cap-gb) so that a 5 GB
intermediate fails fast instead of swapping a shared machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png(width: int, height: int, depth: int = 8, colour: int = 2) -> bytes:
    """A PNG of a horizontal ramp, compressed row by row: small files, any size."""
    per_pixel = {(8, 2): 3, (16, 0): 2}[depth, colour]
    packer = zlib.compressobj(9)
    parts = []
    for y in range(height):
        level = (y * 255 // max(1, height - 1)) & 0xFF
        parts.append(packer.compress(b"\0" + bytes([level]) * (width * per_pixel)))
    parts.append(packer.flush())
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
            + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b""))


def make_corpus(root: Path) -> dict[str, Path]:
    from PIL import Image

    files = {"strip 20000x1 PNG": png(20000, 1), "strip 200000x1 PNG": png(200000, 1),
             "strip 4000x40 PNG (100:1)": png(4000, 40),
             "16-bit gray 8944x8944 PNG": png(8944, 8944, 16, 0),
             "RGB 8944x8944 PNG": png(8944, 8944)}
    paths = {}
    for name, data in files.items():
        paths[name] = root / f"{len(paths)}.png"
        paths[name].write_bytes(data)
    big = Image.linear_gradient("L").resize((8000, 8000)).convert("RGB")
    paths["RGB 8000x8000 JPEG"] = root / "big.jpg"
    big.save(paths["RGB 8000x8000 JPEG"], quality=85)
    return paths


def _old_to_rgb(img):
    """The loader before: every numeric mode through a full-size float64 array."""
    import numpy as np
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        arr = arr / 65535.0 if img.mode.startswith("I;16") else arr / max(1.0, arr.max())
        return Image.fromarray((arr * 255).round().astype(np.uint8), "L").convert("RGB")
    return img.convert("RGB")


def child(mode: str, path: str) -> dict:
    import torch
    from PIL import Image

    from explorer import zoo
    from explorer.graph import trace
    from explorer.inference.imaging import ImageError
    from explorer.inference.runner import run_image

    torch.set_num_threads(2)
    model = zoo.build("resnet18")
    info = zoo.get_info("resnet18")
    graph = trace(model, (1, 3, 224, 224))
    run_image(model, info, graph, Image.new("RGB", (320, 240)), [])  # the model's footprint
    base = _rss()
    start = time.perf_counter()
    outcome = "ok"
    try:
        if mode == "before":
            Image.MAX_IMAGE_PIXELS = None  # the size guard existed; measure the path itself
            with Image.open(path) as img:
                img.load()
                image = _old_to_rgb(img)
            run_image(model, info, graph, image, [])
        else:
            run_image(model, info, graph, path, [])
    except ImageError as exc:
        outcome = "refused: " + str(exc).split(": ", 1)[1][:60]
    except MemoryError:
        outcome = "MemoryError (hit the cap)"
    except RuntimeError as exc:
        outcome = "out of memory (hit the cap)" if "alloc" in str(exc) else f"error: {exc}"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"extra_mb": max(0, peak - base) / 2**20, "seconds": time.perf_counter() - start,
            "outcome": outcome}


def _rss() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cap-gb", type=float, default=4.0)
    ap.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    cap = int(args.cap_gb * 2**30)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    with tempfile.TemporaryDirectory() as tmp:
        paths = make_corpus(Path(tmp))
        print(f"{'image':<28} {'file':>9}  {'before: MB':>10} {'s':>5}  {'after: MB':>9} {'s':>5}"
              "  after")
        for name, path in paths.items():
            row = {}
            for mode in ("before", "after"):
                proc = subprocess.run([sys.executable, __file__, "--child", mode, str(path)],
                                      capture_output=True, text=True, timeout=600,
                                      preexec_fn=limit)
                try:
                    row[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
                except (IndexError, json.JSONDecodeError):
                    row[mode] = {"extra_mb": float("nan"), "seconds": float("nan"),
                                 "outcome": f"died ({proc.returncode})"}
            b, a = row["before"], row["after"]
            size = path.stat().st_size
            note = a["outcome"] if b["outcome"] == "ok" else f"{a['outcome']}; before: " \
                                                             f"{b['outcome']}"
            print(f"{name:<28} {size / 1024:>7.0f}KB  {b['extra_mb']:>10.0f} {b['seconds']:>5.1f}"
                  f"  {a['extra_mb']:>9.0f} {a['seconds']:>5.1f}  {note}")


if __name__ == "__main__":
    main()
