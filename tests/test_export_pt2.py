"""Exported programs (.pt2): opened by path like a zoo name, with their module hierarchy,
runnable on images, and refused without running anything when they would run code."""

from __future__ import annotations

import json
import pickle
import zipfile
from collections import Counter

import pytest
import torch
from apphelpers import TIMEOUT, drop, gradient_png, load

from explorer import zoo
from explorer.assets import sample_images
from explorer.cli import main
from explorer.graph.trace import trace, trace_zoo
from explorer.inference.runner import run_image
from explorer.zoo.exported import ExportedModelError, load_exported

SHAPE = (1, 3, 64, 64)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """ResNet-18 at 64×64 with its random weights, exported here, and the original."""
    torch.manual_seed(1)
    model = zoo.build("resnet18").eval()
    path = tmp_path_factory.mktemp("pt2") / "resnet18.pt2"
    torch.export.save(torch.export.export(model, (torch.randn(SHAPE),)), path)
    return path, model


def _ops(graph) -> Counter:
    return Counter(d["op"] for _, d in graph.nx.nodes(data=True))


def test_the_program_opens_with_its_hierarchy_and_the_same_layers(exported):
    path, model = exported
    info = zoo.get_info(str(path))
    assert info.input_shape == (3, 64, 64) and info.task == "classification"
    assert info.initialisation.startswith("none drawn at random")  # the file's weights
    assert zoo.input_shape(str(path)) == SHAPE
    graph = trace_zoo(str(path))
    original = trace(model, SHAPE)
    assert _ops(graph)["Conv2d"] == _ops(original)["Conv2d"] == 20
    assert _ops(graph) == _ops(original)
    assert graph.modules["layer1.0"] == "BasicBlock" and graph.modules["layer1"] == "Sequential"
    attrs = graph.node("conv1")["attrs"]
    for key in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "groups"):
        assert attrs[key] == original.node("conv1")["attrs"][key], key
    assert graph.edge_counts()["residual"] == original.edge_counts()["residual"] == 8
    from explorer.analysis.summary import summarize

    assert summarize(graph).total["macs"] == summarize(original).total["macs"]


def test_an_image_runs_through_it_with_the_same_output(exported):
    path, model = exported
    loaded = zoo.build(str(path))
    info = zoo.get_info(str(path))
    result = run_image(loaded, info, trace(loaded, SHAPE), sample_images()[0])
    with torch.inference_mode():
        expected = model(result.x)
    assert torch.allclose(result.capture.output, expected, atol=1e-5)
    assert result.capture.get("layer1.0.conv1").shape == (1, 64, 16, 16)


def test_the_window_opens_and_runs_it(qtbot, window, exported, tmp_path):
    path, model = exported
    load(qtbot, window, str(path))
    assert _ops(window.state.model.graph)["Conv2d"] == 20
    window.inference.open_image(str(gradient_png(tmp_path / "g.png")))
    qtbot.waitUntil(lambda: window.state.result is not None, timeout=TIMEOUT)
    with torch.inference_mode():
        expected = model(window.state.result.x)
    assert torch.allclose(window.state.result.capture.output.cpu(), expected, atol=1e-5)
    # the archive carries its weights: not "random init", no untrained banner
    assert window.state.weights.label == "weights in the file" and window.state.weights.in_file


def test_the_cli_says_the_weights_are_the_files(exported, tmp_path, capsys):
    path, _ = exported
    image = gradient_png(tmp_path / "g.png")
    assert main(["run", str(path), str(image), "-o", str(tmp_path / "out")]) == 0
    prediction = json.loads((tmp_path / "out" / "prediction.json").read_text())
    assert prediction["weights"] == "weights in the file"


def test_a_dropped_pt2_opens(qtbot, window, exported):
    path, _ = exported
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        drop(window, path)
    assert window.state.model.name == str(path)


def test_the_cli_reads_it(exported, capsys):
    path, _ = exported
    assert main(["info", str(path), "--layer", "layer1.0.conv1"]) == 0
    assert "kernel_size     3×3" in capsys.readouterr().out


# ------------------------------------------------------------------ refused files
def _rewrite(src, dst, change):
    """A copy of the archive with ``change(name, bytes) -> bytes`` applied to each entry."""
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for name in a.namelist():
            b.writestr(name, change(name, a.read(name)))
    return dst


def _json_change(suffix, edit):
    def change(name, data):
        if name.endswith(suffix):
            value = json.loads(data)
            edit(value)
            return json.dumps(value).encode()
        return data
    return change


class _Boom:
    def __reduce__(self):
        return (print, ("pwned",))


def _refused(path, capsys, reason):
    with pytest.raises(ExportedModelError, match=reason):
        load_exported(str(path))
    assert main(["summary", str(path)]) == 2
    err = capsys.readouterr()
    assert err.err.count("\n") == 1 and reason.split("|")[0] in err.err and "pwned" not in err.out


def test_pickled_payloads_are_refused_before_torch_reads_them(exported, tmp_path, capsys):
    path, _ = exported

    def flag(config):
        next(iter(config["config"].values()))["use_pickle"] = True

    _refused(_rewrite(path, tmp_path / "a.pt2", _json_change("model_weights_config.json", flag)),
             capsys, "stored as a pickle")
    sneaky = _rewrite(path, tmp_path / "b.pt2", lambda name, data: pickle.dumps(_Boom())
                      if name.endswith("sample_inputs/model.pt") else data)
    _refused(sneaky, capsys, "not plain tensors")


def test_code_in_guards_or_targets_is_refused(exported, tmp_path, capsys):
    path, _ = exported

    def guards(program):
        program["guards_code"] = ["__import__('os').system('echo pwned')"]

    def target(program):
        program["graph_module"]["graph"]["nodes"][0]["target"] = "torch.os.system"

    _refused(_rewrite(path, tmp_path / "g.pt2", _json_change("models/model.json", guards)),
             capsys, "guard code")
    _refused(_rewrite(path, tmp_path / "t.pt2", _json_change("models/model.json", target)),
             capsys, "torch.os.system")


def test_not_an_archive_is_one_line(tmp_path, capsys):
    bad = tmp_path / "x.pt2"
    bad.write_bytes(b"not a zip")
    assert main(["summary", str(bad)]) == 2
    assert "not a torch.export archive" in capsys.readouterr().err
    assert main(["summary", str(tmp_path / "missing.pt2")]) == 2
    assert "no such file" in capsys.readouterr().err
