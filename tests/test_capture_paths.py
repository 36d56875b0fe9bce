"""Capture keeps exactly what the function mode keeps, by either of its paths: the
model's fx program (every zoo model has one whose values are named exactly as the traced
graph's nodes) and the hook path (module hooks and replayed cheap ops, never the whole
pass under the function mode for the zoo): every node of the models with functional
joins, compared tensor for tensor."""

from __future__ import annotations

import pytest
import torch

from explorer import zoo
from explorer.graph import trace
from explorer.graph.trace import record
from explorer.inference import capture as capture_module
from explorer.inference.capture import capture, plan_capture
from explorer.inference.capture_fx import program_for
from explorer.inference.fx_program import fx_program

# Models whose joins are functional (SE gates, concatenations, shuffles, adds outside a
# module, functional ReLU and pooling), at small inputs.
JOINS = {"se_resnet50": 64, "shufflenet_v2_x0_5": 64, "shufflenet_v1_g3": 64,
         "googlenet": 64, "inception_v3": 96, "densenet121": 64, "mobilenet_v2": 64,
         "fcn_resnet50": 64, "segnet": 64, "xception": 96, "resnet18": 64,
         # a crop that hands back its input (kept as a copy), in-place adds in CIFAR and
         # pre-activation blocks, Caffe's cropped FCN skips, a plain chain
         "unet_padded": 64, "resnet20_cifar": 32, "preact_resnet18": 64,
         "fcn8s": 64, "lenet5": 32}


# the 110- and 164-layer nets' blocks, more of them: their programs add 3 s, nothing new
SAME_CODE = {"resnet1202_cifar", "preact_resnet1001_cifar"}


def nodes_of(graph):
    return [n for n, d in graph.nx.nodes(data=True) if d["kind"] not in ("input", "output")]


@pytest.mark.parametrize("name", sorted(JOINS))
def test_fx_program_hooks_and_replays_keep_what_the_function_mode_keeps(name, monkeypatch):
    model = zoo.build(name).eval()
    c = zoo.input_shape(name)[1]
    x = torch.randn(1, c, JOINS[name], JOINS[name])
    graph = trace(model, x.shape)
    nodes = nodes_of(graph)
    plan = plan_capture(graph, nodes)
    assert not plan.recorded and not plan.helpers
    raw = {graph.node(n).get("raw", n): n for n in nodes}
    with torch.inference_mode():
        fx = capture(model, x, graph, "all", budget_mb=None)
        _, slow, _ = record(model, x, set(raw))
        monkeypatch.setattr(capture_module, "fx_capture", lambda *args: None)
        hooked = capture(model, x, graph, "all", budget_mb=None)
        plain = model(x)
    assert program_for(model, graph).program is not None  # fx made the first
    assert set(slow) == set(raw)
    # three passes of the model: a kernel may round differently from one pass to the next
    # (BLAS blocking under load), so alike to float32's rounding; a wrong node is far off
    for r, n in raw.items():
        torch.testing.assert_close(fx.get(n), slow[r], rtol=1e-5, atol=1e-6,
                                   msg=lambda m, n=n: f"{n}: {m}")
        torch.testing.assert_close(hooked.get(n), slow[r], rtol=1e-5, atol=1e-6,
                                   msg=lambda m, n=n: f"{n}: {m}")
    for out in (fx.output, hooked.output):  # the model's own output, as it gives it
        assert type(out) is type(plain)
        for a, b in zip(_leaves(out), _leaves(plain), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def _leaves(output):
    from torch.utils._pytree import tree_flatten

    return tree_flatten(output)[0]


def test_a_replayed_node_alone_keeps_only_itself():
    model = zoo.build("shufflenet_v2_x0_5").eval()
    x = torch.randn(1, 3, 64, 64)
    graph = trace(model, x.shape)
    cat, shuffle = "stage2.1.cat", "stage2.1.channel_shuffle"
    plan = plan_capture(graph, [cat])
    # the cat's first input is the chunk's first half, which no module sees either
    assert [r[0] for r in plan.replays] == ["stage2.1.chunk", cat]
    assert "stage2.1.chunk" in plan.helpers  # kept for the replay, then dropped
    with torch.inference_mode():
        one = capture(model, x, graph, [cat, shuffle], budget_mb=None)
        everything = capture(model, x, graph, "all", budget_mb=None)
    assert set(one.tensors) == {cat, shuffle}
    assert torch.equal(one.get(cat), everything.get(cat))
    # the shuffle is the cat's channels interleaved: same values, another order
    assert torch.equal(one.get(cat).sum((2, 3)).sort().values,
                       one.get(shuffle).sum((2, 3)).sort().values)


def test_every_zoo_model_has_an_exact_fx_program_and_a_hook_plan():
    """No forward: on the meta device, the traced graph of every zoo model, its hook plan
    (never the function mode), and its fx program, whose making runs the program under
    the trace's recorder and refuses unless the graph it records is the traced graph."""
    for name in zoo.list_models():
        with torch.device("meta"):
            model = zoo.build(name)
        graph = trace(model, zoo.input_shape(name), name=name)
        assert not plan_capture(graph, nodes_of(graph)).recorded, name
        if name in SAME_CODE:
            continue
        program = fx_program(model, graph)
        assert set(program.values) == set(nodes_of(graph)), name
