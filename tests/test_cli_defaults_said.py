"""Small command-line defects a new user met (issue 24, defect 17), one test each."""

from __future__ import annotations

from PIL import Image

from explorer.cli import main


def test_a_diff_png_defaults_to_twice_its_size_like_a_graph_png(tmp_path):
    """Was: `explorer diff ... -o d.png` wrote at 1x (blurry text); `graph` wrote at 2x."""
    assert main(["diff", "lenet5", "lenet5", "-o", str(tmp_path / "two.png")]) == 0
    assert main(["diff", "lenet5", "lenet5", "-o", str(tmp_path / "one.png"),
                 "--scale", "1"]) == 0
    with Image.open(tmp_path / "two.png") as two, Image.open(tmp_path / "one.png") as one:
        assert abs(two.width - 2 * one.width) <= 2 and abs(two.height - 2 * one.height) <= 2
