"""The window's exports: written beside the target and renamed (a new file, never the old
one rewritten in place), and never onto a file the window has open."""

from __future__ import annotations

import os

from apphelpers import TIMEOUT, gradient_png, load

from explorer.app.dialogs.export import ExportRequest


def test_a_diagram_png_replaces_the_old_file_instead_of_writing_into_it(
        qtbot, window, tmp_path):
    load(qtbot, window, "lenet5")
    target, other = tmp_path / "d.png", tmp_path / "kept.png"
    other.write_bytes(b"someone else's file")
    os.link(other, target)  # writing in place would change ``other`` too
    assert window.export(ExportRequest("png", str(target)))
    assert other.read_bytes() == b"someone else's file"
    assert target.read_bytes().startswith(b"\x89PNG")
    assert [p.name for p in tmp_path.iterdir() if ".part" in p.name] == []


def test_no_export_lands_on_the_open_image(qtbot, window, tmp_path):
    load(qtbot, window, "lenet5")
    image = gradient_png(tmp_path / "in.png")
    before = image.read_bytes()
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.open_image(str(image))
    assert not window.export(ExportRequest("png", str(image)))
    assert "is one of the files being read" in window.warnings[0]
    assert image.read_bytes() == before
    fifo = tmp_path / "pipe.svg"
    os.mkfifo(fifo)
    assert not window.export(ExportRequest("svg", str(fifo)))
    assert "not a regular file" in window.warnings[-1] and fifo.is_fifo()
