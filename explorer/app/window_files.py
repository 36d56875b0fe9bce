"""The window's dealings with files and dialogs: model files and the recent list, images
(open, drop, paste, samples), weights, exports, compare and lessons, theme, about.
Mixed into MainWindow; every failure goes through ``show_error``."""

from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox

from ..zoo import carries_weights, model_file

APP = "Architecture Explorer"
MAX_RECENT = 8
MODEL_SUFFIXES = (".py", ".pt2", ".onnx")
MAX_CHECKED_SOURCE = 1 << 20  # larger model files are checked by the probe alone
IMAGE_FILTER = ("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.gif);;"
                "All files (*)")


class FilesMixin:
    # ---------------------------------------------------------------- menus filled here
    def _fill_menus(self) -> None:
        from ..assets import RESOURCES, sample_images
        from ..inference.devices import available_devices
        from .actions import DEVICES, DOCKS, EXPORT_IMAGE, RECENT, SAMPLES, THEME, WEIGHTS
        from .controllers.weights_menu import WeightsMenu
        from .theme import THEMES

        self.recent_menu = self.menus[RECENT]
        self._refresh_recent()
        for what in ("features", "overlay", "side-by-side"):
            self.menus[EXPORT_IMAGE].addAction(f"{what.capitalize()} as PNG…",
                                               functools.partial(self.ask_export_image, what))
        for dock in self.docks.values():
            self.menus[DOCKS].addAction(dock.toggleViewAction())
        self.menus[DOCKS].addAction(self.toolbar.toggleViewAction())
        self._radio(self.menus[THEME], THEMES, str(self.settings.value("theme", "system")),
                    self.set_theme)
        device = self.inference.device
        self._radio(self.menus[DEVICES], available_devices(),
                    device.type if device.index is None else str(device),
                    self.inference.set_device)
        for path in sample_images():
            self.menus[SAMPLES].addAction(path.stem.replace("_", " "),
                                          functools.partial(self.inference.open_image,
                                                            str(path)))
        # the shapes the demo U-Net learnt (Model ▸ Load demo weights): on a photo its
        # overlay means nothing
        shapes = sorted((RESOURCES / "demo").glob("shapes_*.png"))
        if shapes:
            self.menus[SAMPLES].addSeparator()
        for path in shapes:
            self.menus[SAMPLES].addAction(f"{path.stem.replace('_', ' ')} (demo U-Net)",
                                          functools.partial(self.inference.open_image,
                                                            str(path)))
        self.menus[SAMPLES].setEnabled(bool(self.menus[SAMPLES].actions()))
        self.weights_menu = WeightsMenu(self, self.menus[WEIGHTS])

    def _radio(self, menu, names, current: str, slot) -> None:
        group = QActionGroup(self)
        for name in names:
            action = QAction(name.upper() if name == "cpu" else name.capitalize()
                             if name.isalpha() else name, self, checkable=True)
            action.setChecked(name == current)
            action.triggered.connect(functools.partial(slot, name))
            group.addAction(action)
            menu.addAction(action)

    # ---------------------------------------------------------------- model files
    def ask_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open model file", "", "Models (*.py *.pt2 *.onnx);;Python (*.py);;"
            "Exported programs (*.pt2);;ONNX models (*.onnx)")
        if path:
            self.open_model_path(path)

    def open_model_path(self, path: str) -> int | None:
        """A .py file (the person's code, probed first), a .pt2 exported program or an
        .onnx model (both read as data: they carry their own graph and input shape).
        A file goes into Open recent once it is shown."""
        if not carries_weights(path):
            return self.open_model_file(path)

        def shown(p) -> None:
            self.state.events.model.disconnect(shown)
            if p.name == path:
                self._add_recent(path)

        self.state.events.model.connect(shown)
        return self.open_model(path)

    def open_model_file(self, path: str, name: str | None = None,
                        input_shape: tuple | None = None) -> int | None:
        """The person's own model. Their code never runs on this thread: it is compiled
        here (a syntax error shows at once), then a job probes it in a child process
        (a hang, an exit or a crash there becomes one message with the file's line) and
        only then builds it in-process. A file goes into Open recent once it is shown."""
        from ..usermodel import UserModelError, compile_file
        from .controllers.model_file import ask_input_shape, defined_names, probe_step

        try:
            small = Path(path).stat().st_size <= MAX_CHECKED_SOURCE
            if small:
                compile_file(Path(path))
        except (OSError, UserModelError) as exc:
            self.show_error(exc)
            return None
        if name is None:
            names = defined_names(Path(path)) if small else []
            name = names[0] if len(names) == 1 else None
            if len(names) > 1:
                # a label wider than the title ("Archit... plorer" was cut by the frame)
                name, ok = QInputDialog.getItem(
                    self, "Open model file", f"The model in {Path(path).name} to open (a "
                    "class, or a function returning one):", names, 0, False)
                if not ok:
                    return None
        if input_shape is None:
            try:
                input_shape = ask_input_shape(self)
            except ValueError as exc:
                self.show_error(exc)
                return None
            if input_shape is None:
                return None
        full = f"{path}:{name}" if name else path

        def shown(p) -> None:
            self.state.events.model.disconnect(shown)
            if p.name == full:
                self._add_recent(path)

        self.state.events.model.connect(shown)
        return self.models.open_model(full, {}, input_shape,
                                      first=functools.partial(probe_step, full, input_shape))

    def _add_recent(self, path: str) -> None:
        recent = [p for p in (self.settings.value("recent") or []) if p != path]
        self.settings.setValue("recent", [path] + recent[: MAX_RECENT - 1])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.value("recent") or []:
            self.recent_menu.addAction(path, functools.partial(self.open_model_path, path))

    # ---------------------------------------------------------------- exports
    def ask_export(self, fmt: str = "png") -> None:
        from .dialogs.export import ExportDialog

        if self.state.model is None:
            return
        from ..zoo.registry import file_stem

        shown = self.shown_name()
        dialog = ExportDialog(shown if ":" in shown and ".py:" not in shown
                              else file_stem(shown), fmt,
                              str(self.settings.value("export_folder", "")), self,
                              extent=self._export_extent)
        if dialog.exec():
            self.export(dialog.request())

    def export(self, request) -> bool:
        """Write one ExportRequest; the folder is remembered for the next one."""
        from ..export.files import protecting

        try:
            with protecting(self.input_files()):
                self._write_export(request)
        except (OSError, ValueError) as exc:
            self.show_error(exc)
            return False
        self.settings.setValue("export_folder", str(Path(request.path).parent))
        self.status_label.setText(f"Exported {request.path}")
        return True

    def input_files(self) -> list[str]:
        """The files the window has open (model, image, weights): no export may land on
        one of them."""
        model = self.state.model.name if self.state.model else ""
        live = self.state.live
        return [model_file(model),
                self.inference.image_path,
                live.weights.path if live is not None and live.weights.path else ""]

    def _write_export(self, request) -> None:
        from ..export.files import check_destination, write_text_atomic
        from ..export.graph_export import write_graph
        from ..export.table_export import table_csv, table_markdown

        p = self.state.model
        check_destination(request.path)  # a missing folder is said before any work
        if request.what == "diagram":
            self.export_diagram(request.path, request.whole, request.scale,
                                request.transparent)
        elif request.what == "graph":
            write_graph(p.view, p.layout, request.path)
        else:
            writer = table_markdown if request.fmt == "md" else table_csv
            write_text_atomic(request.path, writer(p.table))

    def _export_extent(self, whole: bool) -> tuple[float, float]:
        from .graph.exports import export_extent

        view = self.panel.view
        return export_extent(self.panel.scene, None if whole else
                             view.mapToScene(view.viewport().rect()).boundingRect())

    def export_diagram(self, path: str, whole: bool = True, scale: float | None = None,
                       transparent: bool = False) -> None:
        """The scene as the person sees it (PNG at 2×, SVG at its size unless ``scale``
        says otherwise); raises OSError or ValueError (ExportTooLarge past what common
        tools open)."""
        from .dialogs.export import DEFAULT_SCALE
        from .graph.exports import export_png, export_svg

        view = self.panel.view
        rect = None if whole else view.mapToScene(view.viewport().rect()).boundingRect()
        if path.lower().endswith(".svg"):
            export_svg(self.panel.scene, path, rect, title=self.windowTitle(),
                       scale=scale or DEFAULT_SCALE["svg"])
        else:
            export_png(self.panel.scene, path, rect, scale or DEFAULT_SCALE["png"],
                       transparent)

    def ask_export_image(self, what: str) -> None:
        from ..zoo.registry import file_stem

        stem = self.state.model.name if self.state.model else "image"
        if stem in self.catalogue.items:  # a zoo model, named as its options make it
            stem = file_stem(self.shown_name())
        path, _ = QFileDialog.getSaveFileName(self, f"Export {what}", f"{stem}-{what}.png",
                                              "PNG (*.png)")
        if path and self.export_image(what, path):
            self.status_label.setText(f"Exported {path}")

    def export_image(self, what: str, path: str) -> bool:
        """The feature grid, the overlay or both side by side, as a PNG."""
        from ..export.files import check_destination, protecting, save_image_atomic
        from ..inference.render import channel_grid, grid_image

        features, predictions = self.inference.features, self.inference.predictions
        image = None
        if what == "features" and features.act is not None:
            grid, _ = channel_grid(features.act, features.order,
                                   features.scale.currentData())
            image = grid_image(grid, max(1, 512 // max(grid.shape)))
        elif what == "overlay":
            image = predictions.composed()
        elif what == "side-by-side":
            image = predictions.side_by_side()
        if image is None:
            self.show_error(ValueError("Nothing to export yet: run an image first."))
            return False
        try:
            with protecting(self.input_files()):
                save_image_atomic(check_destination(path), image)
        except (OSError, ValueError) as exc:
            self.show_error(exc)
            return False
        return True

    # ---------------------------------------------------------------- images and weights
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        data = event.mimeData()
        paths = [u.toLocalFile() for u in data.urls() if u.isLocalFile()]
        if paths:
            models = [p for p in paths if p.lower().endswith(MODEL_SUFFIXES)]
            if models:
                self.open_model_path(models[0])
            images = [p for p in paths if not p.lower().endswith(MODEL_SUFFIXES)]
            if images:
                self.inference.open_image(images[0])
        elif data.hasImage():
            self._set_qimage(data.imageData(), "dropped image")
        event.acceptProposedAction()

    def paste_image(self) -> None:
        clip = QApplication.clipboard()
        if clip.mimeData().hasUrls():
            paths = [u.toLocalFile() for u in clip.mimeData().urls() if u.isLocalFile()]
            if paths:
                self.inference.open_image(paths[0])
                return
        image = clip.image()
        if image.isNull():
            self.status_label.setText("The clipboard holds no image")
            return
        self._set_qimage(image, "pasted image")

    def _set_qimage(self, qimage, name: str) -> None:
        from PIL import Image

        from ..inference.imaging import to_rgb

        qimage = qimage.convertToFormat(qimage.Format.Format_RGBA8888)
        data = bytes(qimage.constBits())[: qimage.sizeInBytes()]
        img = Image.frombuffer("RGBA", (qimage.width(), qimage.height()), data, "raw",
                               "RGBA", qimage.bytesPerLine(), 1)
        self.inference.set_image(to_rgb(img), name)

    def ask_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", "", IMAGE_FILTER)
        if path:
            self.inference.open_image(path)

    def ask_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load weights", "",
                                              "Weights (*.pth *.pt *.safetensors)")
        if path:
            self.inference.load_weights(path)

    def ask_save_weights(self) -> None:
        """File ▸ Save weights…: the live weights (say, just trained) as .safetensors."""
        from ..zoo.registry import file_stem

        if self.state.model is None:
            return
        if self.state.live is None:  # said before a file is asked for
            from .controllers.inference_weights import NO_WEIGHTS

            self.show_error(ValueError(NO_WEIGHTS))
            return
        folder = Path(str(self.settings.value("export_folder", "")) or Path.home())
        path, _ = QFileDialog.getSaveFileName(
            self, "Save weights", str(folder / f"{file_stem(self.shown_name())}.safetensors"),
            "safetensors (*.safetensors)")
        if path and self.inference.save_weights(path, self.input_files()) is not None:
            self.settings.setValue("export_folder", str(Path(path).parent))

    def load_demo(self) -> None:
        """Model ▸ Load demo weights. They belong to a small U-Net, which replaces the
        model on screen: asked first (was: silently, the person's photo rerun and a cat
        labelled circle/square/triangle), a shapes sample offered before their image."""
        meta = self.inference._demo_meta() or {}
        p, keep_image = self.state.model, True
        if p is not None and p.name != meta.get("model"):
            choice = self.demo_choice(p.name)
            if not choice:
                return
            keep_image = choice == "image"
        self.inference.load_demo(self.open_model, keep_image)

    def demo_choice(self, current: str) -> str:
        """'sample', 'image' (the person's own) or '' (cancel)."""
        image = self.state.image_name
        box = QMessageBox(QMessageBox.Question, APP,
                          f"The demo weights belong to a small U-Net (unet_padded) trained "
                          f"on synthetic circles, squares and triangles. It opens in place "
                          f"of {current}.", parent=self)
        box.setInformativeText("It tells shapes from background; a photo means nothing "
                               "to it, so it runs on a sample of the shapes.")
        sample = box.addButton("Open it with a shapes sample", QMessageBox.AcceptRole)
        mine = box.addButton(f"Open it with {image}", QMessageBox.AcceptRole) if image else None
        box.addButton(QMessageBox.Cancel)
        box.setDefaultButton(sample)
        box.exec()
        clicked = box.clickedButton()
        return "sample" if clicked is sample else "image" if (
            mine is not None and clicked is mine) else ""

    # ---------------------------------------------------------------- dialogs and settings
    def ask_compare(self) -> None:
        """Model ▸ Compare with…: the current model beside another, the difference drawn."""
        from ..diffstate import model_text

        p = self.state.model
        a = model_text(p.name, p.options) if p else "resnet34_plain"
        self.open_compare(a, "resnet34" if a != "resnet34" else "resnet34_plain")

    def open_compare(self, a: str, b: str, claim: str = "") -> None:
        from .. import zoo
        from .diff.compare_window import CompareWindow

        self.compare_window = CompareWindow(zoo.list_models(), a, b, self.models.measure,
                                            self.runner.pool, self, claim)
        self.compare_window.show()

    def show_lessons(self) -> None:
        from .dialogs.compare import LessonsDialog

        LessonsDialog(self).exec()

    def set_theme(self, name: str) -> None:
        from .theme import apply_theme

        self.settings.setValue("theme", name)
        self.theme = apply_theme(name)
        if self.core_loaded:
            self.panel.set_canvas(self.theme)

    def show_shortcuts(self) -> None:
        from .actions import shortcut_table

        rows = "".join(f"<tr><td><b>{keys}</b></td><td>{what}</td></tr>"
                       for keys, what in shortcut_table())
        QMessageBox.information(self, f"{APP}: keyboard shortcuts",
                                f"<table cellspacing=6>{rows}</table>")

    def about(self) -> None:
        from .main import about_text

        QMessageBox.about(self, f"About {APP}", about_text())

    def _count_sizes(self) -> None:
        """Parameter counts for the catalogue: small low-priority tasks (one model each,
        built on the meta device) that never delay a model the person asked for."""
        from .. import zoo

        self.runner.background_done.connect(lambda pair: self.catalogue.set_size(*pair))
        self.runner.background(_warm_up)
        for name in zoo.list_models():
            self.runner.background(functools.partial(_count_params, name))


def _warm_up() -> tuple[str, int]:
    """The process's first trace imports torch's meta kernels and the FLOP counter (GIL-
    heavy); doing it now, in the background, keeps it out of the first real request."""
    from ..session import prepare

    prepare("resnet18")
    return _count_params("resnet18")


def _count_params(name: str) -> tuple[str, int]:
    import torch

    from .. import zoo

    with torch.device("meta"):
        return name, sum(p.numel() for p in zoo.build(name).parameters())
