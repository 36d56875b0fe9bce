"""Exports that common tools can open: a PNG past 16,384 px a side or an SVG past
32,767 px is never written. Was: expanded DenseNet-121 at 2x made a 1052x67588 PNG
(ImageMagick refused it) and a 33,794 px tall SVG (rsvg-convert refused it), silently."""

from __future__ import annotations

import pytest
from childproc import run_cli_limited

from explorer.export.image_size import MAX_SIDE, ExportTooLarge, check_size, fitting_scale


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_the_fitting_scale_fits_and_one_step_more_does_not(fmt):
    width, height = 517.0, 33_794.0  # expanded DenseNet-121's canvas, in units
    with pytest.raises(ExportTooLarge) as err:
        check_size(fmt, width, height, 2.0)
    fits = err.value.fits
    assert fits == fitting_scale(fmt, width, height)
    assert max(check_size(fmt, width, height, fits)) <= MAX_SIDE[fmt]
    with pytest.raises(ExportTooLarge):
        check_size(fmt, width, height, round(fits + 0.01, 2))
    assert f"--scale {fits:g} fits" in str(err.value)


def test_write_graph_refuses_a_too_large_file_and_writes_nothing(tmp_path):
    from explorer.export.graph_export import canvas_size, write_graph
    from explorer.graph import fold, layout, trace
    from explorer.zoo import build

    graph = trace(build("resnet18"), (1, 3, 64, 64))
    view = fold(graph, None)
    lay = layout(view.nx)
    _, height = canvas_size(lay)
    scale = MAX_SIDE["png"] / height * 1.5
    for suffix in ("png", "svg"):
        out = tmp_path / f"r.{suffix}"
        big = MAX_SIDE[suffix] / height * 1.5
        with pytest.raises(ExportTooLarge):
            write_graph(view, lay, out, scale=big)
        assert not out.exists() and not list(tmp_path.iterdir())
    fits = fitting_scale("png", *canvas_size(lay))
    assert fits < scale
    write_graph(view, lay, tmp_path / "r.png", scale=fits)
    from PIL import Image

    assert max(Image.open(tmp_path / "r.png").size) <= MAX_SIDE["png"]


def test_the_cli_refuses_in_one_line_naming_the_scale_that_fits(tmp_path):
    out = tmp_path / "r.png"
    run = run_cli_limited(["graph", "resnet18", "--depth", "full", "--scale", "16", "-o",
                           str(out)], tmp_path, timeout=300, cap_bytes=0)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "16,384 px" in lines[0] and "--scale " in lines[0]
    assert not out.exists()
    fits = lines[0].split("--scale ")[1].split()[0]
    ok = run_cli_limited(["graph", "resnet18", "--depth", "full", "--scale", fits, "-o",
                          str(out)], tmp_path, timeout=300, cap_bytes=0)
    assert ok.returncode == 0, ok.stderr
    assert out.exists()


def test_the_export_dialog_says_a_diagram_is_too_large_and_offers_the_scale(qtbot, window,
                                                                           tmp_path):
    pytest.importorskip("pytestqt")
    from apphelpers import TIMEOUT

    from explorer.app.dialogs.export import ExportDialog, ExportRequest

    window.open_model("densenet121")
    qtbot.waitUntil(lambda: window.prepared is not None
                    and window.prepared.name == "densenet121", timeout=TIMEOUT)
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        window.expand_all()
    qtbot.waitUntil(lambda: not window.progress.isVisible(), timeout=TIMEOUT)
    dialog = ExportDialog("densenet121", "png", str(tmp_path), window,
                          extent=window._export_extent)
    qtbot.addWidget(dialog)
    assert not dialog.fit_button.isHidden()
    assert not dialog.ok_button.isEnabled()
    assert "16,384 px" in dialog.size_note.text()
    fits = float(dialog.fit_button.property("fits"))
    dialog.fit_button.click()
    assert dialog.scale.value() == pytest.approx(fits) and dialog.ok_button.isEnabled()
    request = dialog.request()
    assert window.export(request)
    from PIL import Image

    assert max(Image.open(request.path).size) <= 16_384
    dialog.format.setCurrentIndex(1)  # SVG: at its own size, still too tall?
    assert dialog.scale.value() == 1.0
    # a scale past the limit is refused by the window's writer too, nothing written
    too_big = ExportRequest("png", str(tmp_path / "big.png"), True, 4.0)
    assert not window.export(too_big) and not (tmp_path / "big.png").exists()
    assert "16,384 px" in window.warnings[-1]


def test_the_export_dialog_shows_the_whole_destination(qtbot):
    """Was: the File field was ~110 px wide and showed "t/resnet20_cifar.png": the folder
    the file would go to could not be seen without clicking into it."""
    pytest.importorskip("pytestqt")
    from explorer.app.dialogs.export import ExportDialog

    folder = "/home/someone/Pictures/exports"
    dialog = ExportDialog("resnet20_cifar", "png", folder)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    path = dialog.path
    assert path.text() == f"{folder}/resnet20_cifar.png"
    margins = 16  # the frame and text margins of a line edit
    assert path.width() >= path.fontMetrics().horizontalAdvance(path.text()) + margins
