"""No writer lands on one of its own inputs or on something that is not a regular file,
and a closed or full standard output is one line: the files a person gave, and device
nodes, stay what they were."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from childproc import REPO, run_cli_limited

from explorer.cli import main

MODEL = ("from torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
         "        super().__init__()\n        self.conv = nn.Conv2d(3, 4, 3)\n\n"
         "    def forward(self, x):\n        return self.conv(x)\n")


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "M.py"
    path.write_text(MODEL)
    return path


def _refused(capsys, reason: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and reason in err, err
    return err


@pytest.mark.parametrize("via", ["same name", "symlink", "hard link"])
def test_an_output_onto_the_model_file_is_refused(model_file, capsys, via):
    target = {"same name": model_file, "symlink": model_file.with_name("link.py"),
              "hard link": model_file.with_name("hard.py")}[via]
    if via == "symlink":
        target.symlink_to(model_file)
    elif via == "hard link":
        os.link(model_file, target)
    assert main(["summary", f"{model_file}:Net", "-o", str(target)]) == 2
    _refused(capsys, "is one of the files being read")
    assert model_file.read_text() == MODEL


def test_an_exported_program_is_not_replaced_by_its_own_table(tmp_path, capsys):
    import torch
    from torch import nn

    path = tmp_path / "m.pt2"
    torch.export.save(torch.export.export(nn.Conv2d(3, 4, 3), (torch.randn(1, 3, 8, 8),)),
                      path)
    before = path.read_bytes()
    assert main(["summary", str(path), "-o", str(path)]) == 2
    _refused(capsys, "is one of the files being read")
    assert path.read_bytes() == before


def test_run_does_not_overwrite_its_input_image(tmp_path, capsys):
    from PIL import Image

    image = tmp_path / "overlay.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(image)
    before = image.read_bytes()
    assert main(["run", "unet_padded", str(image), "-o", str(tmp_path), "--option",
                 "base_width=4"]) == 2
    _refused(capsys, "overlay.png: is one of the files being read")
    assert image.read_bytes() == before


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/null"])
def test_a_destination_that_is_not_a_regular_file_is_refused(tmp_path, capsys, kind):
    out = tmp_path / "out.md"
    if kind == "fifo":
        os.mkfifo(out)
    else:
        out.symlink_to("/dev/null")
    assert main(["summary", "lenet5", "-o", str(out)]) == 2
    _refused(capsys, "exists and is not a regular file")
    assert out.is_fifo() if kind == "fifo" else out.is_symlink()


@pytest.mark.parametrize("stdout", ["full", "closed"])
def test_standard_output_full_or_closed_is_one_line(tmp_path, stdout):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "explorer", "summary", "lenet5"], cwd=tmp_path, env=env,
            stdout=full if stdout == "full" else None, stderr=subprocess.PIPE, text=True,
            timeout=120, preexec_fn=None if stdout == "full" else lambda: os.close(1))
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "cannot write to standard output" in done.stderr


def test_the_written_file_is_new_not_rewritten_in_place(tmp_path):
    out = tmp_path / "t.md"
    out.write_text("old")
    inode = out.stat().st_ino
    result = run_cli_limited(["summary", "lenet5", "-o", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_ino != inode and "lenet5" in out.read_text()
