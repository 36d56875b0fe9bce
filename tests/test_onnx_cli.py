"""Every command takes an ONNX file where it takes a zoo name."""

from __future__ import annotations

import json
from pathlib import Path

import onnx

from explorer.assets import sample_images
from explorer.cli import main
from explorer.cli.entry import _opens_in_window

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
RESNET50 = str(LIGHT / "light_resnet50.onnx")
SQUEEZENET = str(LIGHT / "light_squeezenet.onnx")


def test_graph_draws_it_with_its_residual_joins(tmp_path, capsys):
    out = tmp_path / "r.svg"
    assert main(["graph", RESNET50, "-o", str(out)]) == 0
    assert "residual 16" in capsys.readouterr().out
    assert out.read_text().startswith("<svg") and "residual shortcut" in out.read_text()


def test_summary_counts_it(capsys):
    assert main(["summary", SQUEEZENET]) == 0
    assert "1,235,496" in capsys.readouterr().out


def test_info_layer_shows_the_onnx_node(capsys):
    assert main(["info", SQUEEZENET, "--layer", "fire2.expand3x3"]) == 0
    out = capsys.readouterr().out
    assert "ONNX op         Conv (ai.onnx)" in out and "kernel_shape=[3, 3]" in out
    assert "kernel_size     3×3" in out


def test_info_layer_names_the_onnx_node_of_a_join(capsys):
    assert main(["info", RESNET50, "--layer", "add"]) == 0
    assert "ONNX op         Sum (ai.onnx)" in capsys.readouterr().out


def test_run_takes_an_image_through_it(tmp_path):
    image = next(p for p in sample_images() if p.suffix in (".jpg", ".png"))
    assert main(["run", SQUEEZENET, str(image), "-o", str(tmp_path),
                 "--layer", "fire2.squeeze1x1"]) == 0
    prediction = json.loads((tmp_path / "prediction.json").read_text())
    assert prediction["task"] == "classification" and len(prediction["top_k"]) == 5
    assert prediction["weights"] == "weights in the file"
    assert (tmp_path / "features_fire2.squeeze1x1.png").is_file()


def test_an_onnx_file_alone_opens_the_window():
    assert _opens_in_window(SQUEEZENET)


def test_the_benchmark_runs_and_prints_its_table():
    """Its figures are read by people, never asserted."""
    import subprocess
    import sys

    bench = Path(__file__).resolve().parents[1] / "benchmarks" / "onnx_bench.py"
    done = subprocess.run([sys.executable, str(bench), "--repeat", "1", "--pairs",
                           "resnet50:light_resnet50"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 and rows[1].startswith("| resnet50 | light_resnet50.onnx |")
