"""The layer table and Find say what the diagram shows (QA pass): a folded run is named as
a run, and Find matches the blocks' module types and the boxes' captions. Each test
failed on the code as it was (noted per test)."""

from __future__ import annotations

import pytest

from explorer.analysis.summary import summarize
from explorer.graph.fold import default_spec, fold
from explorer.graph.style import node_label
from explorer.graph.trace import trace_zoo


@pytest.fixture(scope="module")
def inception():
    graph = trace_zoo("inception_v3")
    return graph, default_spec(graph)


def test_a_folded_run_is_named_as_a_run(inception):
    """Was: the row of Mixed_6c ×2 read "Mixed_6c" with both blocks' parameters."""
    graph, spec = inception
    row = summarize(graph, spec=spec).row("Mixed_6c")
    assert row.count == 2 and row.params == 2 * 1_691_008
    box = node_label("Mixed_6c", fold(graph, spec).nx.nodes["Mixed_6c"])
    assert row.label == f"{box[1]} ×2" == "Mixed_6c … Mixed_6d ×2"  # the graph's own words
    assert row.as_dict()["label"] == row.label


def test_a_single_layer_is_labelled_by_its_name(inception):
    graph, spec = inception
    table = summarize(graph, spec=spec)
    single = [r for r in table.rows if r.count == 1]
    assert single and all(r.label == r.name for r in single)


def test_find_reaches_a_run_by_its_later_members(inception):
    from explorer.analysis.query import find

    graph, spec = inception
    hits = find(graph.nx, "Mixed_6d")
    assert hits and set(hits) <= set(fold(graph, spec).nx.nodes["Mixed_6c"]["members"])
