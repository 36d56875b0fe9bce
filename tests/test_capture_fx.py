"""Capture by the model's fx program: in-place ops cannot change what it keeps, the model
is left as it was, a model fx cannot trace or whose tree changed, or tensors over the
budget, take the hook path with the same result, and programs go with their model."""

from __future__ import annotations

import gc
import threading
import weakref

import torch
import torch.nn.functional as F
from torch import nn

from explorer.graph import trace
from explorer.graph.trace import record
from explorer.inference import capture as capture_module
from explorer.inference import capture_fx
from explorer.inference.capture import capture
from explorer.inference.capture_fx import program_for


def _nodes(graph):
    return [n for n, d in graph.nx.nodes(data=True) if d["kind"] not in ("input", "output")]


def _against_the_function_mode(model, x, graph, cap):
    """Every node ``cap`` kept equals what the function mode keeps (it copies each)."""
    raw = {graph.node(n).get("raw", n): n for n in _nodes(graph)}
    _, slow, _ = record(model, x, set(raw))
    assert set(slow) == set(raw)
    for r, n in raw.items():
        assert torch.equal(cap.get(n), slow[r]), n


class _Writes(nn.Module):
    """Every way of writing into a tensor a capture keeps, in a container's forward."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(4, 4, 1)

    def forward(self, x):
        identity = self.conv(x)
        out = self.bn(identity)
        out += identity  # operator.iadd: kept before and after
        out.mul_(0.5)  # a method, its result unused: later uses read ``out``
        y = F.relu(out, inplace=True)
        z = self.conv2(y)
        z = z + out  # ``out`` was written by the relu above
        kept = self.relu(z)  # an in-place module
        return kept + z  # ... whose input is used again: it was written too


def test_in_place_writes_keep_what_the_function_mode_keeps_and_the_model_is_untouched():
    model = _Writes().eval()
    x = torch.randn(1, 3, 8, 8)
    graph = trace(model, x.shape)
    before = dict(model.__dict__)
    with torch.inference_mode():
        cap = capture(model, x, graph, "all", budget_mb=None)
        plain = model(x)
        assert program_for(model, graph).program is not None
        _against_the_function_mode(model, x, graph, cap)
    assert torch.equal(cap.output, plain)
    # the batch norm's output before ``out += identity`` keeps its own values
    assert not torch.equal(cap.get("bn"), cap.get("add"))
    assert model.relu.inplace and model.__dict__.keys() == before.keys()
    assert not any("forward" in m.__dict__ for m in model.modules())


class _ReusesInput(nn.Module):
    """An in-place ReLU whose input is used again: the sum reads the ReLU's output."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.conv(x)
        y = self.relu(x)
        return x + y


def test_an_in_place_module_run_out_of_place_keeps_the_models_own_output():
    """The hook path runs the ReLU out of place, so its sum read the convolution's output
    where the model reads the ReLU's: the fx program points that use at the ReLU."""
    model = _ReusesInput().eval()
    x = torch.randn(1, 3, 8, 8)
    graph = trace(model, x.shape)
    with torch.inference_mode():
        cap = capture(model, x, graph, "all", budget_mb=None)
        plain = model(x)
    assert torch.equal(cap.output, plain) and torch.equal(cap.get("add"), plain)
    assert cap.get("conv").min() < 0 and cap.get("relu").min() == 0


class _Branches(nn.Module):
    """A forward that branches on a size: the trace knows it, fx's proxies do not."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.act = nn.ReLU()

    def forward(self, x):
        y = self.conv(x)
        if y.shape[-1] > 4:
            y = y * 2
        return self.act(y) + y


def test_a_model_fx_cannot_trace_takes_the_hook_path():
    model = _Branches().eval()
    x = torch.randn(1, 3, 8, 8)
    graph = trace(model, x.shape)
    with torch.inference_mode():
        cap = capture(model, x, graph, "all", budget_mb=None)
        again = capture(model, x, graph, "all", budget_mb=None)  # refused once, remembered
        _against_the_function_mode(model, x, graph, cap)
    entry = program_for(model, graph)
    assert entry.program is None and "cannot trace" in entry.why
    assert all(torch.equal(again.get(n), cap.get(n)) for n in _nodes(graph))


class _Block(nn.Module):
    def __init__(self, act: nn.Module) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.act = act

    def forward(self, x):
        return self.act(self.conv(x)) + x


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.block = _Block(nn.ReLU())

    def forward(self, x):
        return self.block(self.stem(x))


def _net():
    model = _Net().eval()
    x = torch.randn(1, 3, 8, 8)
    return model, x, trace(model, x.shape)


class _Doubled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        return self.conv(x) * 2


def test_a_replaced_module_makes_a_new_program_and_captures_what_the_model_now_computes():
    model, x, graph = _net()
    with torch.inference_mode():
        capture(model, x, graph, "all", budget_mb=None)
        first = program_for(model, graph)
        model.block.conv = nn.Conv2d(4, 4, 3, padding=1)  # a leaf replaced: other weights
        cap = capture(model, x, graph, "all", budget_mb=None)
        second = program_for(model, graph)
        assert second is not first and second.program is not None
        assert torch.equal(cap.get("block.conv"), model.block.conv(cap.get("stem")))
        _against_the_function_mode(model, x, graph, cap)
        model.block.act = nn.Tanh()  # the graph no longer says what runs: refused
        cap = capture(model, x, graph, "all", budget_mb=None)
        assert program_for(model, graph).program is None
        _against_the_function_mode(model, x, graph, cap)
        model.block = _Doubled().eval()  # a container replaced: its code is in the program
        graph = trace(model, x.shape)
        cap = capture(model, x, graph, "all", budget_mb=None)
        assert program_for(model, graph).program is not None
        assert torch.equal(cap.output, model(x))
        _against_the_function_mode(model, x, graph, cap)
    entry = program_for(model, graph)
    model.block.train()  # a container's training flag is written into the program
    assert not entry.current(graph) and program_for(model, graph) is not entry


def test_tensors_over_the_budget_take_the_hook_path(monkeypatch):
    model, x, graph = _net()
    ran = []
    real = capture_fx.fx_program
    monkeypatch.setattr(capture_fx, "fx_program", lambda *a: ran.append(1) or real(*a))
    one_map = 4 * 8 * 8 * 4 / 2**20  # bytes of one node's tensor, in MB
    with torch.inference_mode():
        small = capture(model, x, graph, "all", budget_mb=one_map * 1.5)
        full = capture(model, x, graph, "all", budget_mb=None)
    assert small.over_budget and set(small.tensors) | set(small.over_budget) == set(_nodes(graph))
    assert all(torch.equal(small.get(n), full.get(n)) for n in _nodes(graph))  # recomputed
    assert len(ran) == 1  # the program was made once, and not used over budget


def test_a_program_goes_with_its_model(monkeypatch):
    model, x, graph = _net()
    hooked, _, _ = _net()
    with torch.inference_mode():
        capture(model, x, graph, "all", budget_mb=None)
        monkeypatch.setattr(capture_module, "fx_capture", lambda *args: None)
        capture(hooked, x, graph, "all", budget_mb=None)  # the hook path's module table
    assert program_for(model, graph).program is not None
    gone = [weakref.ref(model), weakref.ref(hooked)]
    del model, hooked
    gc.collect()
    assert all(ref() is None for ref in gone)


class _CallsAnotherThread(nn.Module):
    """While fx traces it, another thread runs a model of its own."""

    def __init__(self, other: nn.Module, seen: list) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.other, self.seen = [other], seen  # a list: not a submodule

    def forward(self, x):
        worker = threading.Thread(target=lambda: self.seen.append(
            self.other[0](torch.ones(1, 2))))
        worker.start()
        worker.join()
        return self.conv(x) + 1


def test_another_threads_modules_run_as_they_would_while_fx_traces():
    other = nn.Linear(2, 2)
    seen: list = []
    model = _CallsAnotherThread(other, seen).eval()
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        graph = trace(model, x.shape)
        seen.clear()
        cap = capture(model, x, graph, "all", budget_mb=None)
        expected = other(torch.ones(1, 2))
    assert program_for(model, graph).program is not None
    # run while fx traced, with nn.Module patched: a tensor, not one of fx's proxies
    assert len(seen) == 1 and type(seen[0]) is torch.Tensor
    assert torch.equal(seen[0], expected)
    assert torch.equal(cap.output, model(x))


def test_hooks_on_the_model_or_a_block_run_through_the_hook_path():
    model, x, graph = _net()
    calls = []
    with torch.inference_mode():
        capture(model, x, graph, "all", budget_mb=None)  # no hook yet: the program
        handle = model.block.register_forward_hook(lambda *a: calls.append("block"))
        model.register_forward_pre_hook(lambda *a: calls.append("model"))
        cap = capture(model, x, graph, "all", budget_mb=None)
        handle.remove()
        _against_the_function_mode(model, x, graph, cap)
    assert program_for(model, graph).program is not None
    assert calls[:2] == ["model", "block"]
