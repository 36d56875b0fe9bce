"""Compare's totals dialog draws the comparison (issue 24, defect 17): was numbers only."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from apphelpers import TIMEOUT  # noqa: E402


def test_the_totals_dialog_draws_bars_per_total_and_per_stage(qtbot):
    from explorer.app.dialogs.compare import BAR_A, BAR_B, CompareDialog

    dialog = CompareDialog(["vgg11", "resnet18"], "vgg11", "resnet18")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: bool(dialog.bars.rows), timeout=TIMEOUT)
    rows = {label: (a, b) for label, a, b, _ in dialog.bars.rows}
    assert rows["parameters"] == (132_863_336, 11_689_512)
    assert "head (after global pooling) MACs" in rows  # was "stride 224"
    assert any(label.startswith("stride 32") for label in rows)
    qtbot.waitUntil(lambda: dialog.bars.height() >= 30 * len(rows), timeout=TIMEOUT)
    image = dialog.bars.grab().toImage()
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 3)
               for y in range(0, image.height(), 3)}
    assert BAR_A.name() in colours and BAR_B.name() in colours
    # one scale per row: on the parameters row vgg11's bar is ~11x resnet18's
    y = 30 + 2 + 5  # the first row, model A's bar

    def length(row_y):
        return sum(image.pixelColor(x, row_y).name() in (BAR_A.name(), BAR_B.name())
                   for x in range(image.width()))

    assert length(y) > 8 * length(y + 13) > 0


def test_every_row_label_is_whole(qtbot):
    """Seen under Xvfb: 'head (after global pooling) MACs' drawn from '(after'."""
    from explorer.app.dialogs.compare import CompareDialog

    dialog = CompareDialog(["resnet18", "vgg11"], "resnet18", "vgg11")
    qtbot.addWidget(dialog)
    dialog.resize(760, 560)
    dialog.show()
    qtbot.waitUntil(lambda: bool(dialog.bars.rows), timeout=TIMEOUT)
    metrics = dialog.bars.fontMetrics()
    widest = max(metrics.horizontalAdvance(r[0]) for r in dialog.bars.rows)
    assert dialog.bars.label_width() >= widest + 8
