"""A fuzz corpus of hostile inputs, generated here (no binary fixtures), each run through
the command line in its own process with a time limit and a memory cap.

A refused case must exit with status 2 and exactly one stderr line that names the input
and says why, and leave no file behind (not even half of one). A "works" case must exit
0 with the right output. Cases that need torch or a user-model probe (a second
interpreter) take seconds each; the heaviest are marked slow."""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import shutil
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from childproc import run_cli_limited as run_cli  # one process per case, capped
from PIL import Image

TIME_LIMIT = 120


# ------------------------------------------------------------------------------ corpus
def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png(width: int, height: int, depth: int = 8, colour: int = 2, rows: bool = True) -> bytes:
    """A PNG of zeros, written row by row through zlib: a few hundred bytes for any size.
    ``rows=False`` keeps only a token of the data (a header that lies)."""
    per_pixel = {(8, 2): 3, (16, 0): 2, (8, 0): 1}[depth, colour]
    packer = zlib.compressobj(9)
    row = b"\0" * (1 + width * per_pixel)
    data = b"".join(packer.compress(row) for _ in range(height if rows else 1)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
            + _chunk(b"IDAT", data) + _chunk(b"IEND", b""))


def forged_jpeg(claimed: int) -> bytes:
    """A 224x224 JPEG whose frame header claims ``claimed`` x ``claimed`` pixels."""
    buf = io.BytesIO()
    Image.new("RGB", (224, 224), (200, 30, 30)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, claimed, claimed)
    return bytes(data)


def float_tiff(path: Path, bad: float) -> None:
    arr = np.ones((32, 32), np.float32)
    arr[3, 3] = bad
    Image.fromarray(arr, "F").save(path)


class Evil:
    """Unpickling this would create the marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def state_dict_files(root: Path) -> None:
    import torch
    from safetensors.torch import save_file

    from explorer import zoo

    sd = zoo.build("lenet5").state_dict()
    first = next(iter(sd))
    variants = {"meta": torch.empty_like(sd[first], device="meta"),
                "sparse": sd[first].to_sparse(), "complex": sd[first].to(torch.complex64),
                "int": sd[first].to(torch.int64), "nan": sd[first] * float("nan")}
    for name, tensor in variants.items():
        torch.save({**sd, first: tensor}, root / f"{name}.pth")
    with open(root / "evil.pth", "wb") as f:
        pickle.dump({"weight": Evil(str(root / "ran"))}, f)
    (root / "pickle.safetensors").write_bytes((root / "nan.pth").read_bytes())
    save_file({k: v.contiguous() for k, v in sd.items()}, str(root / "ok.safetensors"))
    raw = (root / "ok.safetensors").read_bytes()
    (root / "badheader.safetensors").write_bytes(struct.pack("<Q", 10**6) + raw[8:200])
    (root / "text.pth").write_text("hello, this is not a weights file\n")


USER_MODELS = {
    "hang_init": "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                 "        while True:\n            pass\n",
    "hang_forward": "class Net(nn.Module):\n    def forward(self, x):\n        while True:\n"
                    "            x = x + 1\n",
    "exits": "import sys\nsys.exit(0)\n",
    "interrupts": "raise KeyboardInterrupt\n",
    "crashes": "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
    "returns_none": "class Net(nn.Module):\n    def forward(self, x):\n        return None\n",
    "returns_text": "class Net(nn.Module):\n    def forward(self, x):\n"
                    "        return {'out': 'hello'}\n",
    "returns_scalar": "class Net(nn.Module):\n    def forward(self, x):\n        return x.sum()\n",
    "syntax": "class Net(nn.Module)\n    pass\n",
    "greedy": "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
              "        self.big = bytearray(64 << 30)\n",
    "good": "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.conv = nn.Conv2d(3, 4, 3)\n        self.fc = nn.Linear(4, 10)\n"
            "    def forward(self, x):\n        return self.fc(self.conv(x).mean((2, 3)))\n",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    (root / "strip20k.png").write_bytes(png(20000, 1))
    (root / "strip200k.png").write_bytes(png(200000, 1))
    (root / "bomb.png").write_bytes(png(40000, 40000, rows=False))
    (root / "liar.png").write_bytes(png(2000, 2000, rows=False))
    (root / "liar.jpg").write_bytes(forged_jpeg(8000))
    float_tiff(root / "nan.tif", float("nan"))
    float_tiff(root / "inf.tif", float("inf"))
    full = io.BytesIO()
    Image.new("RGB", (256, 256), (1, 2, 3)).save(full, "PNG")
    (root / "cut.png").write_bytes(full.getvalue()[: len(full.getvalue()) // 2])
    (root / "empty.png").write_bytes(b"")
    (root / "text.jpg").write_text("not an image")
    (root / "folder.png").mkdir()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(root / "good.png")
    Image.new("CMYK", (40, 30), (0, 255, 255, 0)).save(root / "cmyk.jpg")
    Image.new("RGB", (50, 40), (0, 0, 255)).save(root / "ünïcode фото.png")
    (root / "big16.png").write_bytes(png(8944, 8944, depth=16, colour=0))  # 155 KB
    state_dict_files(root)
    for name, body in USER_MODELS.items():
        (root / f"{name}.py").write_text("from torch import nn\n" + body)
    (root / "list").write_text("a file named like a command\n")
    (root / "not_a_folder").write_text("x")
    (root / "taken").mkdir()
    (root / "taken" / "prediction.json").mkdir()
    (root / "a_folder").mkdir()
    return root


# ------------------------------------------------------------------------------ running
@dataclass
class Case:
    id: str
    argv: list[str]
    names: str  # what the one stderr line must name (the input)
    reason: str  # a regex the line must match
    env: dict[str, str] = field(default_factory=dict)
    slow: bool = False


def leftovers(root: Path) -> list[str]:
    """Files a failed command must not leave: outputs and half-written temporaries."""
    found = [p.name for p in root.rglob("*") if ".part" in p.name]
    found += [str(p.relative_to(root)) for p in (root / "out").rglob("*")] if (
        root / "out").exists() else []
    found += [p.name for p in root.glob("x.*")]
    return found


RUN = ["run", "lenet5"]
REFUSED = [
    # images: from the header, before any decoding
    Case("strip 20000x1", RUN + ["strip20k.png", "-o", "out"], "strip20k.png", r"20000x1.*100:1"),
    Case("strip 200000x1", RUN + ["strip200k.png", "-o", "out"], "strip200k.png", r"100:1"),
    Case("bomb header", RUN + ["bomb.png", "-o", "out"], "bomb.png", r"decompression bomb"),
    Case("png header lies", RUN + ["liar.png", "-o", "out"], "liar.png",
         r"claims 2000x2000.*(truncated or forged)"),
    Case("jpeg header lies", RUN + ["liar.jpg", "-o", "out"], "liar.jpg",
         r"claims 8000x8000.*(truncated or forged)"),
    Case("float NaN", RUN + ["nan.tif", "-o", "out"], "nan.tif", r"NaN or infinite"),
    Case("float inf", RUN + ["inf.tif", "-o", "out"], "inf.tif", r"NaN or infinite"),
    Case("cut png", RUN + ["cut.png", "-o", "out"], "cut.png", r"the file is truncated"),
    Case("empty", RUN + ["empty.png", "-o", "out"], "empty.png", r"empty"),
    Case("text as jpeg", RUN + ["text.jpg", "-o", "out"], "text.jpg", r"not an image"),
    Case("folder as image", RUN + ["folder.png", "-o", "out"], "folder.png", r"folder"),
    Case("missing image", RUN + ["missing.png", "-o", "out"], "missing.png", r"no such file"),
    # weights
    Case("text weights", RUN + ["good.png", "-o", "out", "--weights", "text.pth"], "text.pth",
         r"not a PyTorch weights file"),
    Case("meta tensor", RUN + ["good.png", "-o", "out", "--weights", "meta.pth"], "meta.pth",
         r"features\.0\.weight: a meta tensor"),
    Case("sparse tensor", RUN + ["good.png", "-o", "out", "--weights", "sparse.pth"],
         "sparse.pth", r"features\.0\.weight: a sparse"),
    Case("complex tensor", RUN + ["good.png", "-o", "out", "--weights", "complex.pth"],
         "complex.pth", r"features\.0\.weight: complex64, not floating-point", slow=True),
    Case("int tensor", RUN + ["good.png", "-o", "out", "--weights", "int.pth"], "int.pth",
         r"int64, not floating-point", slow=True),
    Case("code pickle", RUN + ["good.png", "-o", "out", "--weights", "evil.pth"], "evil.pth",
         r"refused"),
    Case("pickle as safetensors", RUN + ["good.png", "-o", "out", "--weights",
                                         "pickle.safetensors"], "pickle.safetensors",
         r"not a readable safetensors file", slow=True),
    Case("bad safetensors header", RUN + ["good.png", "-o", "out", "--weights",
                                          "badheader.safetensors"], "badheader.safetensors",
         r"safetensors", slow=True),
    # options and arguments
    Case("compression nan", ["info", "densenet121", "--option", "compression=nan"],
         "compression=nan", r"not a finite number"),
    Case("width_mult nan", ["info", "mobilenet_v2", "--option", "width_mult=nan"],
         "width_mult=nan", r"not a finite number"),
    Case("dropout nan", ["info", "alexnet", "--option", "dropout=nan"], "dropout=nan",
         r"not a finite number"),
    Case("input overflow", ["summary", "resnet18", "--input", "1,3,99999999999,99999999999"],
         "--input", r"too large"),
    Case("input junk", ["summary", "lenet5", "--input", "1,3,abc"], "--input", r"numbers"),
    Case("scale inf", ["graph", "lenet5", "-o", "x.png", "--scale", "inf"], "--scale", r"inf"),
    Case("scale 0", ["graph", "lenet5", "-o", "x.png", "--scale", "0"], "--scale", r"'0'"),
    Case("depth 0", ["graph", "lenet5", "-o", "x.svg", "--depth", "0"], "--depth",
         r"at least 1"),
    Case("depth -1", ["summary", "lenet5", "--depth", "-1"], "--depth", r"at least 1"),
    Case("device meta", RUN + ["good.png", "-o", "out", "--device", "meta"], "meta",
         r"cannot run"),
    Case("device xpu", RUN + ["good.png", "-o", "out", "--device", "xpu"], "xpu",
         r"cannot run"),
    Case("unknown dtype", ["summary", "lenet5", "--dtype", "float8"], "--dtype",
         r"invalid choice"),
    # destinations: checked before the work
    Case("prediction.json is a folder", RUN + ["good.png", "-o", "taken"],
         "prediction.json", r"is a folder"),
    Case("-o is a file", RUN + ["good.png", "-o", "not_a_folder"], "not_a_folder",
         r"not a folder"),
    Case("missing folder", ["graph", "lenet5", "-o", "nowhere/x.svg"], "nowhere",
         r"does not exist"),
    Case("output is a folder", ["summary", "lenet5", "-o", "a_folder"], "a_folder",
         r"is a folder"),
    # user model files: probed in a child process first
    Case("hang in __init__", ["summary", "hang_init.py:Net"], "hang_init.py:",
         r"still running after 3 s \(in __init__\)", {"EXPLORER_PROBE_SECONDS": "3"}, True),
    Case("hang in forward", ["summary", "hang_forward.py:Net"], "hang_forward.py:",
         r"still running after 3 s \(in forward\)", {"EXPLORER_PROBE_SECONDS": "3"}, True),
    Case("sys.exit", ["summary", "exits.py"], "exits.py:3", r"sys\.exit\(0\)"),
    Case("KeyboardInterrupt", ["summary", "interrupts.py"], "interrupts.py:2",
         r"KeyboardInterrupt", slow=True),
    Case("crash", ["summary", "crashes.py"], "crashes.py:3", r"crashed \(SIGSEGV\)",
         slow=True),
    Case("returns None", ["summary", "returns_none.py:Net"], "returns_none.py:3",
         r"returned None"),
    Case("returns a dict of text", ["summary", "returns_text.py:Net"], "returns_text.py:3",
         r"dict whose 'out' is str", slow=True),
    Case("returns a scalar", ["summary", "returns_scalar.py:Net"], "returns_scalar.py:3",
         r"shape \(\)", slow=True),
    Case("syntax error", ["summary", "syntax.py:Net"], "syntax.py:2", r"syntax error"),
    Case("memory hog", ["summary", "greedy.py:Net"], "greedy.py:5", r"out of memory",
         slow=True),
]


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else [])
             for c in REFUSED])
def test_refused_in_one_line(corpus, case):
    try:
        result = run_cli(case.argv, corpus, case.env)
        left = leftovers(corpus)
    finally:  # a failing case must not make the next ones fail
        for path in [corpus / "out", *corpus.glob("x.*"), *corpus.rglob("*.part*")]:
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("explorer: ") and case.names in lines[0], lines[0]
    assert re.search(case.reason, lines[0]), lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert not left
    assert not (corpus / "ran").exists()  # no pickle code ever ran


# ------------------------------------------------------------------------------ must work
def strict_json(path: Path) -> dict:
    def no_constants(name):
        raise ValueError(f"{path.name} holds {name}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=no_constants)


@pytest.mark.parametrize("image", ["good.png", "cmyk.jpg", "ünïcode фото.png"])
def test_ordinary_images_work(corpus, tmp_path, image):
    result = run_cli(RUN + [image, "-o", str(tmp_path / "o")], corpus)
    assert result.returncode == 0 and not result.stderr, result.stderr
    pred = strict_json(tmp_path / "o" / "prediction.json")
    assert pred["model"] == "lenet5" and len(pred["top_k"]) == 5
    probs = [p["prob"] for p in pred["top_k"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6


@pytest.mark.slow
def test_sixteen_bit_image_near_the_pixel_limit_works(corpus, tmp_path):
    result = run_cli(RUN + ["big16.png", "-o", str(tmp_path / "o")], corpus)
    assert result.returncode == 0, result.stderr
    assert strict_json(tmp_path / "o" / "prediction.json")["top_k"]


def test_nan_weights_load_with_a_warning_and_strict_json(corpus, tmp_path):
    result = run_cli(RUN + ["good.png", "-o", str(tmp_path / "o"), "--weights", "nan.pth"],
                     corpus)
    assert result.returncode == 0, result.stderr
    assert "warning: nan.pth: 1 tensors hold NaN" in result.stderr
    assert "no valid probability" in result.stdout
    pred = strict_json(tmp_path / "o" / "prediction.json")
    assert pred["top_k"][0]["prob"] is None and pred["warnings"]


def test_safetensors_weights_work(corpus, tmp_path):
    result = run_cli(RUN + ["good.png", "-o", str(tmp_path / "o"), "--weights",
                            "ok.safetensors"], corpus)
    assert result.returncode == 0 and not result.stderr, result.stderr


def test_a_file_named_like_a_command_does_not_hijack_it(corpus):
    result = run_cli(["list", "lenet*"], corpus)
    assert result.returncode == 0 and result.stdout.startswith("lenet5"), result.stderr


def test_no_display_says_so_in_one_line(corpus):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "explorer", "good.png"], cwd=corpus,
                            env=env, capture_output=True, text=True, timeout=TIME_LIMIT)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert "no display" in result.stderr


@pytest.mark.slow
def test_a_good_user_model_passes_its_probe_and_runs(corpus, tmp_path):
    result = run_cli(["run", "good.py:Net", "good.png", "-o", str(tmp_path / "o")], corpus)
    assert result.returncode == 0, result.stderr
    assert strict_json(tmp_path / "o" / "prediction.json")["model"] == "good.py:Net"


def test_a_good_graph_is_written_whole(corpus, tmp_path):
    result = run_cli(["graph", "lenet5", "-o", str(tmp_path / "g.svg"), "--scale", "2"], corpus)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "g.svg").read_text().rstrip().endswith("</svg>")
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]
