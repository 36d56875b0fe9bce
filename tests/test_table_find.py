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


INCEPTION_BLOCKS = ["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
                    "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"]


def test_find_matches_the_blocks_module_types(inception):
    """Was: "Inception" and "type=Inception" found 0; eleven boxes are inception modules."""
    from explorer.analysis.query import find

    graph, _ = inception
    assert find(graph, "Inception") == INCEPTION_BLOCKS
    assert find(graph, "type=Inception") == INCEPTION_BLOCKS
    assert find(graph, "type=InceptionC") == ["Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"]
    assert "Mixed_5b" not in find(graph, "type!=Inception")
    assert find(graph, "type=Incep") == []  # a variant is a letter or number, not a cut


def test_find_matches_what_the_boxes_read(inception):
    """Was: "7×1" found 0 although labels read "7×1 conv"; block captions were unseen."""
    from explorer.analysis.query import find

    graph, spec = inception
    hits = find(graph, "7×1")
    assert hits and hits == find(graph, "7x1")
    assert all(node_label(h, graph.nx.nodes[h])[0].startswith("7×1 conv") for h in hits)
    view = fold(graph, spec).nx
    captioned = [n for n, d in view.nodes(data=True) if d.get("folded")
                 and "inception: 4 branches" in node_label(n, d)[0]]
    assert captioned and set(captioned) <= set(find(graph, "inception: 4 branches"))


def test_a_block_is_found_only_where_none_of_its_layers_is(inception):
    from explorer.analysis.query import find

    graph, _ = inception
    assert "Conv2d_1a_3x3" not in find(graph, "conv")  # its layer Conv2d_1a_3x3.conv is
    assert find(graph, "params>1e6") == find(graph.nx, "params>1e6")  # attributes: layers


def test_markdown_names_a_folded_run_as_the_graph_does():
    from explorer.analysis import summarize
    from explorer.export.table_export import table_csv, table_markdown
    from explorer.graph import default_spec, trace_zoo

    graph = trace_zoo("inception_v3")
    table = summarize(graph, spec=default_spec(graph))
    assert "| Mixed_6c … Mixed_6d ×2 |" in table_markdown(table)
    assert "\nMixed_6c," in table_csv(table)  # the CSV keeps the node's id, for programs


def test_a_malformed_query_says_what_is_wrong_and_how_to_write_it():
    """Was: `kernel>>3` and `colour=red` said only "0 found"."""
    import pytest

    from explorer.analysis.query import QueryError, find
    from explorer.graph import trace
    from explorer.zoo import build

    graph = trace(build("resnet18"), (1, 3, 64, 64))
    for query, words in (("kernel>>3", "one comparison per word"),
                         ("colour=red", "no layer here has 'colour'; try kernel"),
                         ("kernel>abc", "needs a number"),
                         ("groups>", "a value is missing")):
        with pytest.raises(QueryError, match=words):
            find(graph, query)
    assert len(find(graph, "type=Conv2d stride=2")) == 7  # conv1, 3 strided convs, 3 projections
