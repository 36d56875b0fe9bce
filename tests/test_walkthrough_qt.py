"""A new user's walk through the window (issue 24), one test per defect a test can see."""

from __future__ import annotations

from apphelpers import TIMEOUT, gradient_png, load


def test_the_untrained_banner_names_next_steps_for_a_model_without_weights(
        qtbot, window, tmp_path, monkeypatch):
    load(qtbot, window, "fcn8s", input_shape=(1, 3, 64, 64))
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.open_image(str(gradient_png(tmp_path / "g.png")))
    panel = window.inference.predictions
    qtbot.waitUntil(lambda: not panel.note_box.isHidden(), timeout=TIMEOUT)
    assert panel.offer_button.isHidden()  # no published set of its own
    text = panel.steps.text()
    assert "model:fcn_resnet50" in text and "'demo'" in text and "'file'" in text
    taken = []
    monkeypatch.setattr(window, "load_demo", lambda: taken.append("demo"))
    monkeypatch.setattr(window, "ask_weights", lambda: taken.append("file"))
    panel.steps.linkActivated.emit("demo")
    panel.steps.linkActivated.emit("file")
    assert taken == ["demo", "file"]


def test_changed_options_reach_the_title_the_catalogue_and_export_names(qtbot, window,
                                                                        tmp_path):
    """Was: plain ResNet-34 still read and exported as "resnet34"."""
    from explorer.app.dialogs.export import ExportDialog

    load(qtbot, window, "resnet34")
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        window.models.rebuild({"plain": True}, window.prepared.input_shape)
    assert "resnet34_plain (random init)" in window.windowTitle()
    assert window.catalogue.tree.currentIndex().data() == "resnet34_plain"
    assert window.settings.value("last_model") == "resnet34_plain"
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        window.models.rebuild({"plain": False, "shortcut": "A"}, window.prepared.input_shape)
    assert "resnet34 with shortcut='A' (random init)" in window.windowTitle()
    assert window.catalogue.tree.currentIndex().data() == "resnet34"
    captured = {}

    def fake_exec(dialog):
        captured["path"] = dialog.request().path
        return 0

    import pytest

    mp = pytest.MonkeyPatch()
    mp.setattr(ExportDialog, "exec", fake_exec)
    try:
        window.ask_export("png")
    finally:
        mp.undo()
    assert captured["path"].endswith("resnet34_shortcut-A.png")


def test_find_starts_afresh_on_another_model_and_says_why_a_query_fails(qtbot, window):
    """Was: the old query and its count stayed after switching models; a malformed query
    said only "0 found"."""
    load(qtbot, window, "resnet18")
    window.search.box.setText("colour=red")
    assert "try kernel" in window.search.count.text()
    window.search.box.setText("conv")
    assert window.search.count.text().strip().endswith("found")
    load(qtbot, window, "lenet5")
    assert window.search.box.text() == "" and window.search.count.text() == ""
    assert window.state.search.hits == ()


def test_a_tiny_image_says_how_it_became_the_input_and_bad_files_say_what_is_wrong(
        qtbot, window, tmp_path):
    """Was: a 10x10 image silently scaled to 224; "not an image Pillow can read"."""
    load(qtbot, window, "resnet18")
    with qtbot.waitSignal(window.inference.ran, timeout=TIMEOUT):
        window.inference.open_image(str(gradient_png(tmp_path / "tiny.png", 10, 10)))
    note = window.inference.predictions.geometry_note.text()
    assert note.startswith("10×10 px image → 224×224 input") and "scaled up" in note
    (tmp_path / "notes.png").write_text("hello")
    window.inference.open_image(str(tmp_path / "notes.png"))
    qtbot.waitUntil(lambda: bool(window.warnings), timeout=TIMEOUT)
    assert "not an image" in window.warnings[-1] and "Pillow" not in window.warnings[-1]


def test_an_unticked_box_is_seen_in_the_dark_theme(qtbot, window):
    """Was: Fusion outlined it in the dark window colour, nearly invisible."""
    from PySide6.QtWidgets import QCheckBox

    from explorer.app.theme import apply_theme

    apply_theme("dark")
    try:
        box = QCheckBox("plain")
        qtbot.addWidget(box)
        box.resize(80, 24)
        box.show()
        qtbot.waitExposed(box)
        image = box.grab().toImage()
        light = sum(image.pixelColor(x, y).lightness() > 140
                    for x in range(0, 20) for y in range(image.height()))
        assert light >= 20  # the indicator's outline
    finally:
        apply_theme("light")


def test_the_legend_keeps_residual_shortcut_while_brackets_show_folded_ones(qtbot,
                                                                            window):
    """Was: with every shortcut inside folded blocks the legend dropped "residual
    shortcut" while the red brackets stayed."""
    load(qtbot, window, "resnet18")
    with qtbot.waitSignal(window.shown, timeout=TIMEOUT):
        window.collapse_all()
    assert "residual" not in window.prepared.layout.kinds()
    assert "residual" in window.panel.legend.shown_kinds()


def test_lesson_titles_are_whole_in_their_list(qtbot, window):
    """Was: cut in the Lessons dialog's list."""
    from explorer.app.dialogs.compare import LessonsDialog

    dialog = LessonsDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    view = dialog.list
    for i in range(view.count()):
        rect = view.visualItemRect(view.item(i))
        assert rect.right() <= view.viewport().width()
        lines = max(1, rect.height() // view.fontMetrics().lineSpacing())
        assert view.fontMetrics().horizontalAdvance(view.item(i).text()) <= lines * rect.width()
    dialog.close()


def test_a_first_screen_cuts_no_box(qtbot, window):
    """Was: Inception v3 opened with its first module's join cut at the bottom,
    ShuffleNet v1 with a box cut at the top."""
    window.resize(1280, 720)
    qtbot.wait(400)  # the docks planned for this size (see docks/layout.py) before it opens
    for name in ("inception_v3", "shufflenet_v1_g3"):
        load(qtbot, window, name)
        view = window.panel.view
        seen = view.mapToScene(view.viewport().rect()).boundingRect()
        for node, item in window.panel.scene.nodes.items():
            r = item.sceneBoundingRect()
            if r.intersected(seen).height() > 4:  # more than a sliver is seen
                assert seen.top() - 1 <= r.top() and r.bottom() <= seen.bottom() + 1, (
                    name, node)
