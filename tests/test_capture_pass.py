"""The capture pass's own mechanics: in-place activations run out of place instead of
copying what they overwrite, wrapped forwards are taken off again, another thread's calls
are not kept, and a plan is made once per graph and node list."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

from explorer import zoo
from explorer.graph import trace
from explorer.graph.trace import record
from explorer.inference import capture as capture_module
from explorer.inference.capture import _switch_in_place, capture
from explorer.inference.capture_pass import seen_pass
from explorer.inference.capture_plan import CapturePlan, cached_plan, plan_capture
from explorer.inference.inplace import out_of_place


def _nodes(graph):
    return [n for n, d in graph.nx.nodes(data=True) if d["kind"] not in ("input", "output")]


@pytest.fixture
def hook_path(monkeypatch):
    """Capture takes its hook path (the zoo's models otherwise run their fx program)."""
    monkeypatch.setattr(capture_module, "fx_capture", lambda *args: None)


def test_in_place_relus_run_out_of_place_and_only_functional_overwrites_are_copied(hook_path):
    model = zoo.build("resnet18").eval()
    x = torch.randn(1, 3, 64, 64)
    graph = trace(model, x.shape)
    nodes = _nodes(graph)
    plan = plan_capture(graph, nodes)
    switch, copy = _switch_in_place(plan, dict(model.named_modules()))
    # every ReLU(inplace=True) is switched; what ``out += identity`` overwrites (each
    # block's last batch norm) is still copied, and nothing else
    assert {type(m) for m in switch} == {nn.ReLU} and len(set(switch)) == 9
    assert copy and all(n.endswith(".bn2") for n in copy)
    assert len(copy) == 8
    raw = {graph.node(n).get("raw", n): n for n in nodes}
    with torch.inference_mode():
        fast = capture(model, x, graph, "all", budget_mb=None)
        _, slow, _ = record(model, x, set(raw))
    for r, n in raw.items():
        assert torch.equal(fast.get(n), slow[r]), n
    # a batch norm's output before its ReLU keeps its negative values
    assert fast.get("bn1").min() < 0 and fast.get("relu").min() == 0
    # the model is left as it was: flags back on, no wrapped forward on any instance
    assert all(m.inplace for m in switch)
    assert not any("forward" in m.__dict__ for m in model.modules())


def test_out_of_place_nests_and_restores_the_modules_own_flag():
    on, off = nn.ReLU(inplace=True), nn.ReLU6(inplace=False)
    with out_of_place([on, off]):
        with out_of_place([on]):
            assert not on.inplace
        assert not on.inplace and not off.inplace  # the outer capture still runs
    assert on.inplace and not off.inplace


class _TwoThreads(nn.Module):
    """Calls its linear layer from another thread first, then on its own input."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.Tanh()

    def forward(self, x):
        other = threading.Thread(target=lambda: self.fc(torch.full_like(x, 7.0)))
        other.start()
        other.join()
        return self.act(self.fc(x))


def test_only_the_capturing_threads_calls_are_kept_and_an_own_forward_survives():
    model = _TwoThreads().eval()
    own = model.act.forward  # an instance-level forward of the user's: put back after
    model.act.__dict__["forward"] = own
    plan = CapturePlan(seen={"fc": [(0, "out", 0, "fc")], "act": [(0, "in", 0, "fc.in")]})
    kept: dict[str, torch.Tensor] = {}
    x = torch.randn(2, 4)
    with torch.inference_mode():
        seen_pass(model, x, plan, dict(model.named_modules()), kept.__setitem__)
        expected = model.fc(x)
    assert torch.equal(kept["fc"], expected) and torch.equal(kept["fc.in"], expected)
    assert "forward" not in model.fc.__dict__ and model.act.__dict__["forward"] is own


def test_a_plan_is_made_once_per_graph_and_node_list():
    model = zoo.build("lenet5").eval()
    graph = trace(model, zoo.input_shape("lenet5"))
    nodes = _nodes(graph)
    assert cached_plan(graph, nodes) is cached_plan(graph, list(nodes))
    assert cached_plan(graph, nodes[:2]) is not cached_plan(graph, nodes)
    other = trace(model, zoo.input_shape("lenet5"))
    assert cached_plan(other, nodes) is not cached_plan(graph, nodes)


def test_each_replay_runs_once_and_nothing_is_called_over_budget(monkeypatch, hook_path):
    """ShuffleNet's joins no module sees are computed once, from the kept tensors (a
    second pass over them after the capture cost ShuffleNet v1 ×8 1.37× its floor)."""
    from explorer.graph.trace import Replay

    name = "shufflenet_v2_x0_5"
    model = zoo.build(name).eval()
    graph = trace(model, zoo.input_shape(name))
    nodes = _nodes(graph)
    runs: list[int] = []
    real = Replay.run
    monkeypatch.setattr(Replay, "run", lambda self, given: runs.append(1) or real(self, given))
    with torch.inference_mode():
        cap = capture(model, torch.randn(zoo.input_shape(name)), graph, "all", budget_mb=None)
    assert len(runs) == len(cached_plan(graph, nodes).replays) > 0
    assert cap.over_budget == [] and all(n in cap.tensors for n in nodes)
