"""The Qt-free state of the window: one place, events, a model change clears the rest."""

from __future__ import annotations

import subprocess
import sys

from explorer.graph import FoldSpec
from explorer.session import prepare, relayout
from explorer.viewstate import LiveModel, ModelKey, ViewState, Weights, revealing


def recorder(state: ViewState) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []
    for name in ("model", "view", "weights", "selection", "search", "image", "result"):
        getattr(state.events, name).connect(lambda *a, n=name: seen.append((n, a)))
    return seen


def test_the_state_imports_neither_qt_nor_torch():
    code = ("import sys, explorer.viewstate\n"
            "bad = [m for m in ('torch', 'PySide6', 'PIL') if m in sys.modules]\n"
            "sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_a_model_change_clears_everything_derived_from_the_old_one():
    state = ViewState()
    state.show_model(prepare("resnet18"))
    state.select("conv1")
    state.set_result("a result")
    state.set_live(LiveModel(state.key, object(), Weights("mine.pth", "/x/mine.pth")))
    assert state.weights.label == "mine.pth"
    seen = recorder(state)
    state.show_model(prepare("lenet5"))
    assert state.selection is None and state.result is None
    assert state.live is None and state.weights == Weights()
    assert [n for n, _ in seen][:2] == ["model", "weights"]
    assert ("selection", (None,)) in seen and ("result", (None,)) in seen


def test_the_same_model_rebuilt_keeps_its_weights_and_selection():
    state = ViewState()
    state.show_model(prepare("resnet18"))
    state.select("conv1")
    live = LiveModel(state.key, object(), Weights("mine.pth", "/x/mine.pth"))
    state.set_live(live)
    state.show_model(prepare("resnet18"))
    assert state.live is live and state.selection == "conv1"


def test_live_models_for_another_key_are_ignored():
    state = ViewState()
    state.show_model(prepare("resnet18"))
    other = ModelKey("lenet5", (), (1, 1, 32, 32))
    state.set_live(LiveModel(other, object(), Weights("x", "x")))
    assert state.live is None and not state.weights.trained


def test_search_looks_inside_folded_blocks_and_reveals():
    state = ViewState()
    p = prepare("resnet50", spec=FoldSpec(depth=1))
    state.show_model(p)
    assert "layer1.0.downsample.0" not in p.view.nx
    search = state.find("downsample")
    assert len(search.hits) == 8  # conv + BN in each stage's first block
    hit = state.next_hit()
    assert hit == "layer1.0.downsample.0" and state.search.position == 0
    spec = revealing(p.spec, p.graph.hierarchy(hit))
    view, _ = relayout(p.graph, spec)
    assert hit in view.nx


def test_selection_is_limited_to_what_the_view_shows():
    state = ViewState()
    state.show_model(prepare("resnet50", spec=FoldSpec(depth=1)))
    state.select("layer1.0.conv1")  # folded away: not selectable until revealed
    assert state.selection is None
    state.select("layer1")
    assert state.selection == "layer1"


def test_back_and_forward_walk_the_fold_history():
    state = ViewState()
    p = prepare("resnet18", spec=FoldSpec(depth=1))
    state.show_model(p)
    first = state.place()
    spec = FoldSpec(depth=2)
    view, lay = relayout(p.graph, spec)
    state.show_view(spec, "TB", view, lay, p.table, came_from=first)
    assert state.back == [first] and not state.forward
    target = state.step_back(state.place())
    assert target.spec == FoldSpec(depth=1) and len(state.forward) == 1
    assert state.step_back(state.place()) is None
    assert state.step_forward(state.place()).spec == spec


def test_image_change_drops_the_old_result():
    state = ViewState()
    state.set_result("old")
    seen = recorder(state)
    state.set_image("an image", "cat.jpg")
    assert state.result is None and state.image_name == "cat.jpg"
    assert [n for n, _ in seen] == ["image", "result"]
