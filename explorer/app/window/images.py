"""An image into the window: File ▸ Open image, a file dropped on the window (a dropped
model file opens as a model), a pasted image or file. Mixed into MainWindow."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QFileDialog

MODEL_SUFFIXES = (".py", ".pt2", ".onnx")
IMAGE_FILTER = ("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.gif);;"
                "All files (*)")


class ImagesMixin:
    def ask_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", "", IMAGE_FILTER)
        if path:
            self.inference.open_image(path)

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

        from ...inference.imaging import to_rgb

        qimage = qimage.convertToFormat(qimage.Format.Format_RGBA8888)
        data = bytes(qimage.constBits())[: qimage.sizeInBytes()]
        img = Image.frombuffer("RGBA", (qimage.width(), qimage.height()), data, "raw",
                               "RGBA", qimage.bytesPerLine(), 1)
        self.inference.set_image(to_rgb(img), name)
