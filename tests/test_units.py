"""One unit convention for sizes everywhere: binary figures with binary names (KiB, MiB,
GiB). Was: the window showed binary sizes with decimal names ('143.3 MB' for ResNet-50's
activations, '784.0 kB' for an 802,816-byte tensor), `explorer summary` decimal ones
('150.25MB'), the budgets' messages decimal again ('1.1 GB' for 1 GiB)."""

from __future__ import annotations

from explorer.limits import MEMORY_BUDGET, bytes_text, gb


def test_bytes_are_binary_with_binary_names():
    assert bytes_text(802_816) == "784.0 KiB"
    assert bytes_text(150_250_000) == "143.3 MiB"
    assert bytes_text(MEMORY_BUDGET) == gb(MEMORY_BUDGET) == "1.0 GiB"
    assert bytes_text(512) == "512 B"


def test_the_summary_and_the_window_table_say_the_same(capsys):
    from explorer.analysis import summarize
    from explorer.cli.entry import main
    from explorer.export.table_export import table_markdown

    table = summarize("resnet50")
    text = table_markdown(table)
    assert "activations 143.3 MiB" in text and "MB" not in text
    assert main(["summary", "resnet50", "--depth", "1"]) == 0
    assert "activations 143.3 MiB" in capsys.readouterr().out
