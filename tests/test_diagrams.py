"""Diagrams that teach: captions in the papers' words, the default view of every seed
family, the encoder-decoder arrangement, and edge routing that never crosses a box."""

from __future__ import annotations

import pytest

from explorer import zoo
from explorer.graph import FoldSpec, default_spec, fold, layout, trace_zoo
from explorer.graph.describe import compress, op_caption
from explorer.graph.layout import Box
from explorer.graph.style import node_label

# For every seed family: the structure kinds its default view draws as edges, and
# captions some box must carry (the paper's words for its idea).
SEED_VIEWS = {
    "lenet5": (set(), ["5×5 conv, 6", "5×5 conv, 120", "fc, 84"]),
    "alexnet": (set(), ["11×11 conv, 64, /4", "dropout, p = 0.5", "max pool 3×3, /2"]),
    "vgg16": (set(), ["3×3 conv, 512", "max pool 2×2, /2"]),
    "googlenet": ({"branch"}, ["inception: 4 branches, 480"]),
    "inception_v3": ({"branch"}, ["inception: 4 branches, 768 ×2", "1×7 conv, 128"]),
    "resnet34": ({"residual"}, ["residual 3×3-3×3, 64 ×2", "residual 3×3-3×3, 128, /2"]),
    "resnet50": ({"residual"}, ["bottleneck 1×1-3×3-1×1, 1024 ×5"]),
    "resnet34_plain": (set(), ["3×3-3×3 conv, 64 ×2"]),
    "preact_resnet50": ({"residual"}, ["bottleneck 1×1-3×3-1×1, 512 ×3"]),
    "se_resnet50": ({"residual", "gate"}, ["bottleneck 1×1-3×3-1×1, 256, SE r = 16 ×2",
                                           "sigmoid", "scale ×"]),
    "densenet121": ({"concat"}, ["dense block: 12 layers, k = 32",
                                 "dense block: 24 layers, k = 32"]),
    "mobilenet_v1": (set(), ["3×3 conv, 32, dw", "3×3 dw-1×1 conv, 512 ×5"]),
    "mobilenet_v2": ({"residual"}, ["inverted residual 1×1-3×3 dw-1×1, 64 ×3"]),
    "shufflenet_v1_g3": ({"residual", "branch"}, ["channel shuffle", "1×1 conv, 240, g = 3"]),
    "xception": ({"residual"}, ["residual (3×3 dw-1×1) ×3, 728 ×8", "3×3 conv, 1024, dw"]),
    "fcn8s": ({"skip"}, ["4×4 up-conv, 21, ×2", "16×16 up-conv, 21, ×8"]),
    "unet": ({"skip"}, ["2×2 up-conv, 512, ×2", "crop", "concat"]),
    "segnet": ({"index"}, ["max unpool 2×2, ×2"]),
    "deconvnet": ({"index"}, ["7×7 deconv, 512", "3×3 deconv ×3, 512"]),
}
U_SHAPED = {"fcn8s", "unet", "segnet", "deconvnet"}


@pytest.fixture(scope="module")
def seeds():
    return {name: trace_zoo(name) for name in SEED_VIEWS}


def captions(view) -> set[str]:
    return {node_label(n, view.node(n))[0] for n in view.nx}


@pytest.mark.parametrize("name", sorted(SEED_VIEWS))
def test_default_view_shows_the_papers_structure(seeds, name):
    kinds, expected = SEED_VIEWS[name]
    graph = seeds[name]
    view = fold(graph, default_spec(graph))
    shown = {k for k, n in view.edge_counts().items() if n and k != "data"}
    assert shown == kinds
    missing = [c for c in expected if c not in captions(view)]
    assert not missing, (missing, sorted(captions(view)))
    lay = layout(view.nx)
    assert lay.arrangement == ("u" if name in U_SHAPED else "column")


def test_repeats_are_compacted_and_the_first_block_is_open(seeds):
    view = fold(seeds["resnet50"], default_spec(seeds["resnet50"]))
    assert "layer1.0.conv2" in view.nx  # the first bottleneck, open, with its shortcut
    assert view.edges("residual") == [("layer1.0.downsample", "layer1.0.add")]
    run = view.node("layer3.1")
    assert run["count"] == 5 and run["repeat_of"][-1] == "layer3.5"
    assert sum(view.node(n)["params"] for n in view.nx) == 25_557_032


def test_labels_carry_kernel_stride_and_groups():
    conv = {"op": "Conv2d", "kind": "module", "attrs": {
        "in_channels": 32, "out_channels": 32, "kernel_size": (3, 3), "stride": (2, 2),
        "groups": 32}}
    assert op_caption(conv) == "3×3 conv, 32, /2, dw"
    conv["attrs"].update(groups=4, stride=(1, 1))
    assert op_caption(conv) == "3×3 conv, 32, g = 4"
    assert op_caption({"op": "max_pool2d", "attrs": {"arg1": 3, "stride": 2}}) == \
        "max pool 3×3, /2"
    assert op_caption({"op": "Upsample", "attrs": {"mode": "bilinear"},
                       "in_shapes": [(1, 8, 4, 4)], "out_shape": (1, 8, 8, 8)}) == \
        "upsample ×2, bilinear"
    assert compress(["3×3 dw", "1×1"] * 3) == "(3×3 dw-1×1) ×3"
    assert compress(["3×3", "3×3"]) == "3×3-3×3"
    g = trace_zoo("mobilenet_v1")
    full = fold(g, FoldSpec())
    labels = captions(full)
    assert "3×3 conv, 64, /2, dw" in labels and "1×1 conv, 128" in labels
    # the attributes stay on the node as data, for the inspector
    dw = next(n for n in full.nx if op_caption(full.node(n)) == "3×3 conv, 64, /2, dw")
    assert full.node(dw)["attrs"]["groups"] == 64


def test_se_block_caption_when_folded(seeds):
    view = fold(seeds["se_resnet50"], FoldSpec(depth=3))
    assert node_label("layer1.0.se", view.node("layer1.0.se"))[0] == "SE: r = 16"


def test_u_arrangement_puts_links_straight_across(seeds):
    for name in ("unet", "segnet"):
        view = fold(seeds[name], default_spec(seeds[name]))
        lay = layout(view.nx)
        links = [e for e in lay.edges if e.kind in ("skip", "index")]
        assert links
        for e in links:  # horizontal, left to right: encoder left, decoder right
            assert all(abs(y - e.points[0][1]) < 0.5 for _, y in e.points), (name, e)
            assert e.points[-1][0] > e.points[0][0]
        column = layout(view.nx, arrangement="column")
        assert column.arrangement == "column" and column.height > lay.height
    plain = fold(seeds["resnet34"], FoldSpec(depth=2))
    asked = layout(plain.nx, arrangement="u")
    assert asked.arrangement == "column" and asked.notes


def on_border(point, box: Box, tolerance: float = 1.0) -> bool:
    x, y = point
    inside_x = box.x - tolerance <= x <= box.x + box.w + tolerance
    inside_y = box.y - tolerance <= y <= box.y + box.h + tolerance
    near_x = min(abs(x - box.x), abs(x - box.x - box.w)) <= tolerance
    near_y = min(abs(y - box.y), abs(y - box.y - box.h)) <= tolerance
    return inside_x and inside_y and (near_x or near_y)


def crosses(p, q, box: Box, inset: float = 1.0) -> bool:
    """Does segment p-q enter the box shrunk by ``inset`` (Liang-Barsky clipping)?"""
    x0, y0, x1, y1 = box.x + inset, box.y + inset, box.x + box.w - inset, box.y + box.h - inset
    if x1 <= x0 or y1 <= y0:
        return False
    dx, dy = q[0] - p[0], q[1] - p[1]
    lo, hi = 0.0, 1.0
    for pk, qk in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if pk == 0:
            if qk < 0:
                return False
            continue
        t = qk / pk
        if pk < 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        if lo > hi:
            return False
    return hi - lo > 1e-9


def test_crossing_check_can_fail():
    box = Box(0.0, 0.0, 10.0, 10.0, [])
    assert crosses((-5, 5), (15, 5), box) and crosses((5, -5), (5, 3), box)
    assert not crosses((-5, -1), (15, -1), box) and not crosses((5, 10), (5, 20), box)
    assert on_border((5, 0), box) and not on_border((5, 5), box)


def geometry_problems(lay) -> list[str]:
    problems = []
    boxes = list(lay.boxes.items())
    for e in lay.edges:
        if len(e.points) < 2:
            problems.append(f"{e.source}->{e.target}: no points")
            continue
        if not on_border(e.points[0], lay.boxes[e.source]):
            problems.append(f"{e.source}->{e.target} starts off its source")
        if not on_border(e.points[-1], lay.boxes[e.target]):
            problems.append(f"{e.source}->{e.target} ends off its target")
        for p, q in zip(e.points, e.points[1:]):
            for n, box in boxes:
                if crosses(p, q, box):
                    problems.append(f"{e.source}->{e.target} crosses {n}")
    return problems


@pytest.mark.parametrize("name", zoo.list_models())
def test_no_edge_crosses_a_box_default_and_expanded(name):
    graph = trace_zoo(name)
    views = [fold(graph, default_spec(graph)), graph]
    if len(graph) > 2000:  # ResNet-1202, -1001: the -110s' blocks, 10× over (80 s each)
        views.pop()
    for view in views:
        for direction in ("TB", "LR"):
            lay = layout(view.nx, direction=direction)
            assert len(lay.edges) == view.nx.number_of_edges()
            problems = geometry_problems(lay)
            assert not problems, (name, direction, len(view), problems[:5])
        if view is views[0]:
            problems = geometry_problems(layout(view.nx, arrangement="column"))
            assert not problems, (name, "column", problems[:5])


# A first screen at the window's readable zoom (0.8) in its default size: about 520 px
# of graph panel, so 650 scene units; 560 for a smaller window.
@pytest.mark.parametrize("name", sorted(SEED_VIEWS))
def test_the_first_screen_shows_every_kind_of_structure(seeds, name):
    from explorer.graph.first_screen import first_screen_start

    kinds = SEED_VIEWS[name][0]
    lay = layout(fold(seeds[name], default_spec(seeds[name])).nx)
    for screen in (560.0, 650.0):
        start = first_screen_start(lay, screen)
        end = start + screen * 0.85
        seen = {e.kind for e in lay.edges if e.kind != "data"
                and min(y for _, y in e.points) < end and max(y for _, y in e.points) > start}
        assert seen == kinds, (screen, start)


def test_the_first_screen_moves_down_to_the_se_gate(seeds):
    """SE-ResNet-50's gate is below its first bottleneck's convolutions: the first screen
    starts lower, with the gate's pool, fcs and sigmoid above the scale and the add."""
    from explorer.graph.first_screen import first_screen_start

    lay = layout(fold(seeds["se_resnet50"], default_spec(seeds["se_resnet50"])).nx)
    start = first_screen_start(lay, 650.0)
    assert start > 0
    for node in ("layer1.0.se.avgpool", "layer1.0.se.fc1", "layer1.0.se.sigmoid",
                 "layer1.0.se.mul", "layer1.0.add"):
        box = lay.boxes[node]
        assert start <= box.y and box.y + box.h <= start + 650.0, node
    assert first_screen_start(lay, lay.height) == 0.0  # all of it fits: its start
    resnet = layout(fold(seeds["resnet50"], default_spec(seeds["resnet50"])).nx)
    assert first_screen_start(resnet, 650.0) == 0.0


def test_segnet_bottleneck_carries_values_and_indices(seeds, tmp_path):
    """Was: the one edge from enc5 to dec5.unpool said "index" only, as if the decoder
    got no values: a max pool hands its unpool both, on one edge of the graph."""
    import json

    from explorer.export.graph_export import graph_json, legend_rows

    view = fold(seeds["segnet"], default_spec(seeds["segnet"]))
    lay = layout(view.nx)
    edge = next(e for e in lay.edges if (e.source, e.target) == ("enc5", "dec5.unpool"))
    assert (edge.kind, edge.also) == ("index", ("data",))
    others = [e for e in lay.edges if e.kind == "index" and e is not edge]
    assert others and all(e.also == () for e in others)  # the skips carry indices only
    assert [r.kind for r in legend_rows(lay)] == ["data", "index"]
    doc = json.loads(json.dumps(graph_json(view, lay)))
    assert {"source": "enc5", "target": "dec5.unpool", "also": ["data"]}.items() <= \
        next(e for e in doc["edges"] if e["target"] == "dec5.unpool").items()


def test_a_folded_conv_bn_relu_is_coloured_as_its_conv(seeds):
    """Was: every folded box in the block colour, so MobileNet v1's "3×3 conv, 32, /2"
    and Inception v3's stem did not look like the convolutions they are."""
    from explorer.graph.style import category

    mobile = fold(seeds["mobilenet_v1"], default_spec(seeds["mobilenet_v1"]))
    assert category(mobile.node("features.0")) == "conv"
    run = next(n for n in mobile.nx if mobile.node(n).get("count", 1) > 1)
    assert category(mobile.node(run)) == "block"  # depthwise + pointwise: two convs
    inception = fold(seeds["inception_v3"], default_spec(seeds["inception_v3"]))
    assert category(inception.node("Conv2d_1a_3x3")) == "conv"
    assert category(inception.node("Mixed_5c")) == "block"
    resnet = fold(seeds["resnet50"], default_spec(seeds["resnet50"]))
    assert category(resnet.node("layer3.1")) == "block"


def test_labels_and_colours_say_what_the_layers_do():
    """Was: functional pools grey; shortcut A a raw "ZeroPadShortcut" box, its blocks
    captioned "shortcut (identity)" though they pad and stride."""
    from explorer.graph import default_spec, fold, trace
    from explorer.graph.style import category, node_label
    from explorer.zoo import build

    for op in ("avg_pool2d", "adaptive_avg_pool2d", "max_pool2d"):
        assert category({"op": op}) == "pool", op
    graph = trace(build("resnet34", shortcut="A"), (1, 3, 64, 64))
    pad = next(d for _, d in graph.nx.nodes(data=True) if d["op"] == "ZeroPadShortcut")
    assert node_label("layer2.0.downsample", pad)[0] == "zero-pad shortcut, 128, /2"
    view = fold(graph, default_spec(graph))
    labels = {n: node_label(n, d) for n, d in view.nx.nodes(data=True) if d.get("folded")}
    assert labels["layer2.0"][-1] == "shortcut (zero-pad)"
    assert any(lines[-1].endswith("(identity)") for lines in labels.values())


def test_shufflenet_v1s_first_unit_is_not_called_inverted():
    """Was: "inverted unit …" (a MobileNet v2 term) on ShuffleNet v1's stage2.0."""
    from explorer.graph import FoldSpec, fold, trace
    from explorer.graph.style import node_label
    from explorer.zoo import build

    graph = trace(build("shufflenet_v1_g3"), (1, 3, 224, 224))
    view = fold(graph, FoldSpec(depth=2))
    caption = node_label("stage2.0", view.nx.nodes["stage2.0"])[0]
    assert "inverted" not in caption and caption.endswith("concat shortcut")
