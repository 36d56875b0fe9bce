"""Capture sees every node from module hooks or replays a cheap op, never running the
whole pass under the function mode for the zoo, and keeps exactly what the function mode
keeps: every node of the models with functional joins, compared tensor for tensor."""

from __future__ import annotations

import pytest
import torch

from explorer import zoo
from explorer.graph import trace
from explorer.graph.trace import record
from explorer.inference.capture import capture, plan_capture

# Models whose joins are functional (SE gates, concatenations, shuffles, adds outside a
# module, functional ReLU and pooling), at small inputs.
JOINS = {"se_resnet50": 64, "shufflenet_v2_x0_5": 64, "shufflenet_v1_g3": 64,
         "googlenet": 64, "inception_v3": 96, "densenet121": 64, "mobilenet_v2": 64,
         "fcn_resnet50": 64, "segnet": 64, "xception": 96, "resnet18": 64}


def nodes_of(graph):
    return [n for n, d in graph.nx.nodes(data=True) if d["kind"] not in ("input", "output")]


@pytest.mark.parametrize("name", sorted(JOINS))
def test_hooks_and_replays_keep_what_the_function_mode_keeps(name):
    model = zoo.build(name).eval()
    c = zoo.input_shape(name)[1]
    x = torch.randn(1, c, JOINS[name], JOINS[name])
    graph = trace(model, x.shape)
    nodes = nodes_of(graph)
    plan = plan_capture(graph, nodes)
    assert not plan.recorded and not plan.helpers
    raw = {graph.node(n).get("raw", n): n for n in nodes}
    with torch.inference_mode():
        fast = capture(model, x, graph, "all", budget_mb=None)
        _, slow, _ = record(model, x, set(raw))
    assert set(slow) == set(raw)
    for r, n in raw.items():
        assert torch.equal(fast.get(n), slow[r]), n


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


def test_every_zoo_model_is_captured_without_the_function_mode():
    """Planning only (no forward): the traced graph of every zoo model."""
    from explorer.graph.trace import trace_zoo

    for name in zoo.list_models():
        graph = trace_zoo(name)
        assert not plan_capture(graph, nodes_of(graph)).recorded, name
