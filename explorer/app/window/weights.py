"""Weights for the model on screen: a file, saving the live weights, the demo U-Net's
(asked first, since it replaces the model), and the untrained banner's next steps.
Mixed into MainWindow."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..main import APP


class WeightsMixin:
    def ask_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load weights", "",
                                              "Weights (*.pth *.pt *.safetensors)")
        if path:
            self.inference.load_weights(path)

    def ask_save_weights(self) -> None:
        """File ▸ Save weights…: the live weights (say, just trained) as .safetensors."""
        from ...zoo.registry import file_stem

        if self.state.model is None:
            return
        if self.state.live is None:  # said before a file is asked for
            from ..controllers.inference_weights import NO_WEIGHTS

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

    def take_next_step(self, step: str) -> None:
        """A link of the untrained-weights banner: a related model, the demo, a file, the
        shipped trained weights."""
        if step.startswith("model:"):
            self.open_model(step.removeprefix("model:"))
        elif step == "demo":
            self.load_demo()
        elif step == "file":
            self.ask_weights()
        elif step == "trained":  # the weights shipped for it (LeNet-5 on the digits)
            self.training.load_trained_lenet()
        elif step == "train":  # nothing published for its classes: Model ▸ Train…
            self.training.ask_train()
