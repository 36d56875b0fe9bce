"""``explorer diff`` and the side-by-side drawing: the JSON schema, the Markdown report,
one SVG/PNG with matched nodes at the same height."""

from __future__ import annotations

import json
import re

import pytest

from explorer.cli.entry import main
from explorer.diffstate import parse_model
from explorer.graph import FoldSpec, fold, trace_zoo
from explorer.graph.diff import diff
from explorer.graph.diff_layout import pair_layout, shared_spec


def test_json_schema_as_the_issue_gives_it(tmp_path, capsys):
    out = tmp_path / "d.json"
    assert main(["diff", "resnet18", "resnet18_plain", "-o", str(out), "--depth", "full"]) == 0
    assert "only in resnet18" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert set(data["totals"]) == {"nodes", "edges"}
    for what in ("nodes", "edges"):
        assert set(data["totals"][what]) == {"same", "changed", "only_a", "only_b"}
        assert sum(data["totals"][what].values()) == len(data[what])
    for node in data["nodes"]:
        assert node["status"] in ("same", "changed", "only_a", "only_b")
        assert (node["a"] is None) == (node["status"] == "only_b")
        assert (node["b"] is None) == (node["status"] == "only_a")
        assert isinstance(node["changes"], dict)
    kinds = {e["kind"] for e in data["edges"] if e["status"] == "only_a"}
    assert "residual" in kinds
    edge = next(e for e in data["edges"] if e["status"] == "same")
    assert len(edge["a"]) == 2 and len(edge["b"]) == 2


def test_options_after_a_colon_and_the_markdown_report(tmp_path):
    out = tmp_path / "d.md"
    assert main(["diff", "resnet34:shortcut=A", "resnet34:shortcut=B", "-o", str(out),
                 "--depth", "2"]) == 0
    text = out.read_text()
    assert text.startswith("# resnet34:shortcut=A vs resnet34:shortcut=B")
    rows = [line for line in text.splitlines() if line.endswith("|") and "| changed |" in line
            and line.startswith("| layer")]
    assert [r.split("|")[1].strip() for r in rows] == ["layer2.0", "layer3.0", "layer4.0"]
    assert "Δ params" in text


def test_parse_model_keeps_file_names_with_colons():
    assert parse_model("resnet34") == ("resnet34", {})
    assert parse_model("resnet34:shortcut=A,preact=true") == (
        "resnet34", {"shortcut": "A", "preact": "true"})
    assert parse_model("nets/my.py:Net") == ("nets/my.py:Net", {})
    assert parse_model("nets/my.py:Net:width=2") == ("nets/my.py:Net", {"width": "2"})
    with pytest.raises(ValueError):
        parse_model("resnet34:shortcut=A,oops")


def test_bad_input_is_one_line(tmp_path, capsys):
    assert main(["diff", "resnet18", "nosuchnet", "-o", str(tmp_path / "d.svg")]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nosuchnet" in err
    assert main(["diff", "resnet18", "resnet34", "-o", str(tmp_path / "d.txt")]) != 0
    assert not list(tmp_path.iterdir())


def test_svg_draws_both_with_matched_nodes_at_one_height(tmp_path):
    out = tmp_path / "d.svg"
    assert main(["diff", "vgg16", "vgg19", "-o", str(out)]) == 0
    svg = out.read_text()
    assert svg.count('<rect class="diff only_b"') == 6 and '<rect class="diff only_a"' not in svg
    assert ">vgg16<" in svg and ">vgg19<" in svg and "only in vgg19: 6 layers" in svg
    a, b = trace_zoo("vgg16"), trace_zoo("vgg19")
    d = diff(a, b)
    pair = pair_layout(d)
    for x, y in d.a_to_b.items():
        assert pair.a.boxes[x].cy == pytest.approx(pair.b.boxes[y].cy)
        assert pair.b.boxes[y].x > pair.a.boxes[x].x + pair.a.boxes[x].w
    # edges still end on their boxes after the stretch
    for lay in (pair.a, pair.b):
        for e in lay.edges:
            src, dst = lay.boxes[e.source], lay.boxes[e.target]
            assert e.points[0][1] == pytest.approx(src.y + src.h, abs=0.5)
            assert e.points[-1][1] == pytest.approx(dst.y, abs=0.5)


def test_png_side_by_side(tmp_path):
    from PIL import Image

    out = tmp_path / "d.png"
    assert main(["diff", "resnet18", "resnet18_plain", "-o", str(out), "--scale", "0.5"]) == 0
    with Image.open(out) as img:
        w, h = img.size
        assert h > w  # two columns, taller than wide
        colours = {c for _, c in img.convert("RGB").getcolors(1 << 20)}
    from explorer.export.diff_export import _mix
    from explorer.graph.style import DIFF_STYLES

    assert _mix(DIFF_STYLES["changed"][0], 0.55) in colours


def test_the_first_view_opens_a_block_of_each_kind_of_change(tmp_path):
    from explorer.graph.diff_layout import revealing_spec

    a, b = trace_zoo("resnet50"), trace_zoo("resnet50_v1")
    spec = revealing_spec(a, b, shared_spec(a, b))
    assert "layer2.0" in spec.expand  # where the stride moved, drawn layer by layer
    d = diff(fold(a, spec), fold(b, spec))
    assert d.node_for("a", "layer2.0.conv2").changes == {"stride": ([2, 2], [1, 1])}
    assert {x.a for x in d.differences() if x.a.count(".") == 1} == {"layer3.0", "layer4.0"}


def test_shared_spec_folds_both_alike():
    a, b = trace_zoo("resnet34"), trace_zoo("resnet34_plain")
    spec = shared_spec(a, b)
    fa, fb = fold(a, spec), fold(b, spec)
    folded = [n for n in fa.nodes() if fa.node(n).get("folded")]
    assert all(re.fullmatch(r"layer\d\.\d", n) for n in folded) and len(folded) >= 14
    assert all(fb.node(n).get("folded") for n in folded)  # the same blocks folded in B
    assert len(fa) == len(fb) + 1  # the only extra: the open block's residual sum
    assert spec == FoldSpec(spec.depth, spec.expand)


def test_a_model_file_against_a_zoo_model(tmp_path):
    (tmp_path / "net.py").write_text(
        "import torch.nn as nn\n\n\nclass Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n"
        "        self.conv1 = nn.Conv2d(1, 6, 5)\n        self.act = nn.Tanh()\n\n"
        "    def forward(self, x):\n        return self.act(self.conv1(x))\n")
    out = tmp_path / "d.json"
    assert main(["diff", f"{tmp_path / 'net.py'}:Net", "lenet5", "-o", str(out),
                 "--input", "1,1,32,32"]) == 0
    data = json.loads(out.read_text())
    first_conv = next(n for n in data["nodes"] if n["a"] == "conv1")
    assert first_conv["b"] == "features.0" and first_conv["status"] == "same"


def test_a_drawing_past_what_viewers_open_is_refused_with_the_scale_that_fits(tmp_path, capsys):
    out = tmp_path / "d.png"
    assert main(["diff", "vgg16", "vgg19", "-o", str(out), "--scale", "16"]) == 2
    err = capsys.readouterr().err
    assert "16,384 px" in err and "--scale" in err and not out.exists()
