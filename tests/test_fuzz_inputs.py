"""The last kinds of bad input that still hurt, each in its own capped process: files that
are not files (a FIFO would block a read forever, a link to /dev/zero never ends, a link
loop), images Pillow would hand to another program, exported programs that do not take
images, a device that does not exist, a base URL that is not one, and the Python API
given what the command line refuses. A command says why in one line (exit 2); the API
raises the project's own error with the same words."""

from __future__ import annotations

import json
import os
import re
import stat
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from childproc import run_all, run_cli_limited, run_limited
from PIL import Image

MARKER = "ran"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    import torch
    from torch import nn

    root = tmp_path_factory.mktemp("inputs")
    Image.new("RGB", (32, 32), (9, 99, 199)).save(root / "good.png")
    (root / "drawing.eps").write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n"
                                      "showpage\n")
    (root / "binary.eps").write_bytes(b"\xc5\xd0\xd3\xc6" + bytes(60))
    bin_dir = root / "bin"  # a Ghostscript that would leave the marker if it ever ran
    bin_dir.mkdir()
    for prog in ("gs", "gswin32c", "gswin64c"):
        (bin_dir / prog).write_text(f"#!/bin/sh\ntouch {root / MARKER}\n")
        (bin_dir / prog).chmod(stat.S_IRWXU)
    for suffix in ("png", "pth", "py", "pt2"):
        os.mkfifo(root / f"fifo.{suffix}")
        (root / f"zero.{suffix}").symlink_to("/dev/zero")
        (root / f"loop.{suffix}").symlink_to(root / f"loop.{suffix}")
    mlp = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 3)).eval()
    torch.export.save(torch.export.export(mlp, (torch.randn(1, 10),)), root / "mlp.pt2")

    class Two(nn.Module):
        def forward(self, x, y):
            return x + y

    pair = (torch.randn(1, 3, 8, 8), torch.randn(1, 3, 8, 8))
    torch.export.save(torch.export.export(Two(), pair), root / "two.pt2")
    return root


@dataclass
class Case:
    id: str
    argv: list[str]
    names: str
    reason: str
    env: dict[str, str] = field(default_factory=dict)


RUN = ["run", "lenet5"]
OUT = ["-o", "out"]
CLI = [
    Case("EPS image", RUN + ["drawing.eps"] + OUT, "drawing.eps", r"EPS file.*external program"),
    Case("binary EPS image", RUN + ["binary.eps"] + OUT, "binary.eps", r"EPS file"),
    Case("FIFO image", RUN + ["fifo.png"] + OUT, "fifo.png", r"named pipe \(FIFO\)"),
    Case("/dev/zero image", RUN + ["zero.png"] + OUT, "zero.png", r"is a device"),
    Case("link loop image", RUN + ["loop.png"] + OUT, "loop.png", r"symbolic link loop"),
    Case("FIFO weights", RUN + ["good.png", "--weights", "fifo.pth"] + OUT, "fifo.pth",
         r"named pipe"),
    Case("/dev/zero weights", RUN + ["good.png", "--weights", "zero.pth"] + OUT, "zero.pth",
         r"is a device"),
    Case("link loop weights", RUN + ["good.png", "--weights", "loop.pth"] + OUT, "loop.pth",
         r"symbolic link loop"),
    Case("FIFO model file", ["summary", "fifo.py:Net"], "fifo.py", r"named pipe"),
    Case("/dev/zero model file", ["summary", "zero.py:Net"], "zero.py", r"is a device"),
    Case("link loop model file", ["summary", "loop.py:Net"], "loop.py", r"symbolic link loop"),
    Case("FIFO .pt2", ["summary", "fifo.pt2"], "fifo.pt2", r"named pipe"),
    Case("/dev/zero .pt2", ["summary", "zero.pt2"], "zero.pt2", r"is a device"),
    Case("device cpu:1", RUN + ["good.png", "--device", "cpu:1"] + OUT, "cpu:1",
         r"no device cpu:1"),
    Case("base URL not a URL", ["run", "shufflenet_v2_x0_5", "good.png", "--weights",
                                "pretrained"] + OUT,
         "EXPLORER_WEIGHTS_BASE_URL", r"not an http\(s\) address",
         {"EXPLORER_WEIGHTS_BASE_URL": "not a url"}),
    Case(".pt2 of an MLP", ["summary", "mlp.pt2"], "mlp.pt2",
         r"takes a 1x10 float32 input, not one batch of images"),
    Case(".pt2 with two inputs", ["graph", "two.pt2", "-o", "g.svg"], "two.pt2",
         r"takes 2 inputs"),
]

API_SETUP = """
import json
from torch import nn
from explorer import zoo
from explorer.graph.trace import trace

class Returns(nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value, self.conv = value, nn.Conv2d(1, 1, 1)

    def forward(self, x):
        return self.value() if callable(self.value) else self.value

try:
    {call}
except Exception as exc:
    print(json.dumps([type(exc).__module__ + "." + type(exc).__name__, str(exc)]))
else:
    print(json.dumps(["no error", ""]))
"""
ZOO, TRACE = "explorer.zoo.registry.ZooError", "explorer.graph.trace.TraceError"
WEIGHTS = "explorer.inference.weights.WeightsError"
API = [  # (id, call, the error class, a regex its message matches)
    ("build(123)", "zoo.build(123)", ZOO, r"named by a string.*not int 123"),
    ("build(None)", "zoo.build(None)", ZOO, r"not NoneType None"),
    ("bool for an int", "zoo.build('resnet18', num_classes=True)", ZOO,
     r"num_classes=True is not an int"),
    ("negative size", "trace(zoo.build('lenet5'), (1, 3, -1, 224))", TRACE,
     r"needs positive sizes"),
    ("shape as text", "trace(zoo.build('lenet5'), '1,1,32,32')", TRACE, r"whole numbers"),
    ("empty shape", "trace(zoo.build('lenet5'), ())", TRACE, r"is empty"),
    ("batch of 0", "trace(zoo.build('lenet5'), (0, 1, 32, 32))", TRACE, r"batch of 0"),
    ("returns None", "trace(Returns(None), (1, 1, 4, 4))", TRACE, r"returned None"),
    ("returns a str", "trace(Returns('hi'), (1, 1, 4, 4))", TRACE, r"returned a str"),
    ("returns a dict of text", "trace(Returns({'out': 'x'}), (1, 1, 4, 4))", TRACE,
     r"dict with no tensor"),
    ("returns an int", "trace(Returns(3), (1, 1, 4, 4))", TRACE, r"returned an int"),
    ("weights from a number", "from explorer.inference.weights import load_weights; "
     "load_weights(zoo.build('lenet5'), 123)", WEIGHTS, r"named by a path, not int"),
    ("weights from a FIFO", "from explorer.inference.weights import load_weights; "
     "load_weights(zoo.build('lenet5'), 'fifo.pth')", WEIGHTS, r"named pipe"),
    ("returns a generator", "trace(Returns(lambda: (i for i in range(2))), (1, 1, 4, 4))",
     TRACE, r"returned a generator"),
]


@pytest.fixture(scope="module")
def results(corpus):
    jobs = {}
    path = f"{corpus / 'bin'}:{os.environ.get('PATH', '')}"
    for case in CLI:
        env = {"TORCH_HOME": str(corpus / "torch"), "PATH": path, **case.env}
        jobs[case.id] = lambda c=case, e=env: run_cli_limited(c.argv, corpus, e)
    for key, call, _, _ in API:
        code = textwrap.dedent(API_SETUP).replace("{call}", call)
        jobs[key] = lambda c=code: run_limited(["-c", c], corpus)
    return run_all(jobs)


@pytest.mark.parametrize("case", CLI, ids=[c.id for c in CLI])
def test_the_command_line_says_why_in_one_line(corpus, results, case):
    result = results[case.id]
    assert not isinstance(result, Exception), result
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("explorer: ") and case.names in lines[0], lines[0]
    assert re.search(case.reason, lines[0]), lines[0]
    assert not (corpus / MARKER).exists(), "an external program ran"
    assert not (corpus / "out").exists()


@pytest.mark.parametrize(("key", "call", "error", "reason"), API, ids=[a[0] for a in API])
def test_the_python_api_raises_the_projects_own_error(results, key, call, error, reason):
    result = results[key]
    assert not isinstance(result, Exception), result
    assert result.returncode == 0, result.stderr[-2000:]
    raised, message = json.loads(result.stdout.strip().splitlines()[-1])
    assert raised == error, (raised, message)
    assert re.search(reason, message), message
