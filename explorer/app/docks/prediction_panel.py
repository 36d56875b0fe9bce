"""The image and what the model makes of it: top-5 bars for classification; for
segmentation the overlay with an opacity slider, a mask-only toggle and a legend with
pixel shares; Grad-CAM for a chosen class at a chosen layer, with its colour bar and the
centre crop outlined; PNG exports."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ...inference.predictions import colorize, overlay, voc_palette
from ...inference.render import cam_overlay, colour_bar


def to_pixmap(img: Image.Image) -> QPixmap:
    rgb = img.convert("RGB")
    data = rgb.tobytes()
    qimage = QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format_RGB888)
    return QPixmap.fromImage(qimage.copy())


EMPTY = "No image yet: drop one on the window, or File ▸ Open image…"
UNTRAINED = ("Untrained weights (random init): these predictions are noise and mean "
             "nothing about the image.")


CAM_SCALE = ("0 → 1: how strongly each place's features raise the score of {cls} at "
             "{layer}, relative to this image's strongest place (0: nothing, or evidence "
             "against it).")
CROP_NOTE = (" The dashed box is the centre crop the model saw; outside it (faded) nothing "
             "was measured.")


class PredictionPanel(QWidget):
    gradcamRequested = Signal(int)  # class index
    camLayerChosen = Signal()  # the Grad-CAM layer changed (combo or a click in the diagram)
    publishedRequested = Signal()  # the person wants the model's published weights
    # another next step from the banner: "model:NAME", "demo" or "file"
    stepChosen = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.result = None
        self.labels: tuple[str, ...] = ()
        self.picture = QLabel(EMPTY, alignment=Qt.AlignCenter)
        # a label's minimum is its pixmap's size: ignored, so the dock (and the window)
        # can get narrow; redraw() scales the picture to whatever room it gets
        self.picture.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)
        self.picture.setMinimumSize(160, 120)
        self.picture.setWordWrap(True)
        self.bars = QWidget()
        self.bars_layout = QVBoxLayout(self.bars)
        self.bars_layout.setContentsMargins(0, 0, 0, 0)
        self.opacity = QSlider(Qt.Horizontal, minimum=0, maximum=100, value=55)
        self.opacity.valueChanged.connect(self.redraw)
        self.opacity.setMinimumWidth(60)  # a narrow dock squeezed it to its handle
        self.mask_only = QCheckBox("mask only")
        self.mask_only.toggled.connect(self.redraw)
        self.legend = QListWidget()
        self.legend.setMaximumHeight(150)
        self.cam_class = QComboBox()  # ImageNet labels are long: not sized to them
        self.cam_class.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.cam_class.setMinimumContentsLength(8)
        self.cam_button = QPushButton("Grad-CAM")
        self.cam_button.clicked.connect(self.request_cam)
        # where Grad-CAM looks: the last stage by default, any conv, or a layer clicked in
        # the diagram (inference.cam_targets.CamTarget as each item's data)
        self.cam_layer = QComboBox()
        self.cam_layer.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.cam_layer.setMinimumContentsLength(10)
        self.cam_layer.setToolTip("The layer whose feature maps Grad-CAM weighs; a click on "
                                  "a layer in the diagram chooses it too")
        self.cam_layer.currentIndexChanged.connect(lambda _: self.camLayerChosen.emit())
        self.cam: np.ndarray | None = None
        self.cam_bar = QLabel()  # the colour bar, 0 at the left, 1 at the right
        self.cam_bar.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self.cam_bar.setFixedHeight(12)
        self.cam_note = QLabel(wordWrap=True)
        # said plainly when the image ran through untrained weights, with the way out
        self.weights_note = QLabel(UNTRAINED, wordWrap=True)
        self.weights_note.setStyleSheet("QLabel { color: #b45309; font-weight: bold; }")
        self.offer_button = QPushButton()  # short ("Use NAME"); the details wrap below
        self.offer_button.clicked.connect(self.publishedRequested)
        self.offer_detail = QLabel(wordWrap=True)
        # the other ways to a result that means something (a dead end was all there was
        # for models without published weights)
        self.steps = QLabel(wordWrap=True, textFormat=Qt.RichText)
        self.steps.linkActivated.connect(self.stepChosen)
        self.note_box = QWidget()
        nl = QVBoxLayout(self.note_box)
        nl.setContentsMargins(0, 0, 0, 0)
        nl.addWidget(self.weights_note)
        nl.addWidget(self.offer_button, 0, Qt.AlignLeft)
        nl.addWidget(self.offer_detail)
        nl.addWidget(self.steps)
        seg = QHBoxLayout()
        seg.addWidget(QLabel("opacity"))
        seg.addWidget(self.opacity, 1)
        seg.addWidget(self.mask_only)
        self.seg_box = QWidget()
        sl = QVBoxLayout(self.seg_box)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addLayout(seg)
        sl.addWidget(self.legend)
        cam = QHBoxLayout()
        cam.addWidget(self.cam_class, 1)
        cam.addWidget(self.cam_button)
        at = QHBoxLayout()
        at.addWidget(QLabel("at"))
        at.addWidget(self.cam_layer, 1)
        self.cam_box = QWidget()
        cl = QVBoxLayout(self.cam_box)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addLayout(cam)
        cl.addLayout(at)
        self.cam_scale = QWidget()  # shown with a Grad-CAM: the bar and what it means
        sc = QVBoxLayout(self.cam_scale)
        sc.setContentsMargins(0, 0, 0, 0)
        ends = QHBoxLayout()
        ends.addWidget(QLabel("0"))
        ends.addWidget(self.cam_bar, 1)
        ends.addWidget(QLabel("1"))
        sc.addLayout(ends)
        sc.addWidget(self.cam_note)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.note_box)
        layout.addWidget(self.picture, 1)
        # how the image became the model's input: its size, the crop, the scaling
        self.geometry_note = QLabel(wordWrap=True)
        layout.addWidget(self.cam_scale)
        layout.addWidget(self.geometry_note)
        layout.addWidget(self.bars)
        layout.addWidget(self.seg_box)
        layout.addWidget(self.cam_box)
        self.seg_box.hide()
        self.cam_box.hide()
        self.cam_scale.hide()
        self.note_box.hide()

    def clear(self) -> None:
        self.result, self.labels, self.cam = None, (), None
        while self.bars_layout.count():
            self.bars_layout.takeAt(0).widget().deleteLater()
        self.picture.clear()
        self.picture.setText(EMPTY)
        self.geometry_note.setText("")
        self.legend.clear()
        self.seg_box.hide()
        self.cam_box.hide()
        self.cam_scale.hide()
        self.note_box.hide()

    def show_weights_note(self, untrained: bool, offer: str | None, detail: str = "",
                          steps=None) -> None:
        """``untrained``: say the result means nothing; ``offer``: the button's text for
        the model's published weights (None where there are none), ``detail`` what they
        score and cost, wrapped under it (a long button text held the window wide);
        ``steps`` (inference.next_steps.NextSteps) the other ways, as links."""
        links = []
        if steps is not None and untrained:
            if steps.trained:
                links.append(f"<a href='trained'>{steps.model} {steps.trained_text()}</a>")
            links += [f"<a href='model:{m}'>{m}</a> (published weights)"
                      for m in steps.related]
            if steps.demo:
                links.append("<a href='demo'>the demo U-Net</a> and its shapes")
            if steps.train:  # nothing published answers its classes (the CIFAR ResNets)
                links.append("<a href='train'>training it</a> (Model ▸ Train…, a few "
                             "minutes on the built-in shapes)")
            links.append("<a href='file'>a weights file…</a>")
        self.steps.setText(("Or try " if offer else "Try ") + ", ".join(links) + "."
                           if links else "")
        self.steps.setVisible(bool(links))
        self.note_box.setVisible(untrained)
        self.offer_button.setVisible(untrained and offer is not None)
        self.offer_button.setText(offer or "")
        self.offer_detail.setVisible(untrained and bool(detail))
        self.offer_detail.setText(detail)

    def show_result(self, result, labels: tuple[str, ...]) -> None:
        self.result, self.labels, self.cam = result, labels, None
        self.cam_scale.hide()
        self.geometry_note.setText(f"{result.geometry.text()}\n"
                                   f"{result.geometry.steps_text()}")
        while self.bars_layout.count():
            self.bars_layout.takeAt(0).widget().deleteLater()
        self.seg_box.setVisible(result.task == "segmentation")
        self.cam_box.setVisible(result.task == "classification")
        if result.task == "classification":
            self.cam_class.clear()
            for p in result.top_k:
                prob = p["prob"] if math.isfinite(p["prob"] or math.nan) else None
                bar = QProgressBar(maximum=1000, value=int(1000 * (prob or 0)))
                bar.setFormat(f"{p['label']}  " + (f"{100 * prob:.1f}%" if prob is not None
                                                   else "no valid probability (NaN)"))
                bar.setObjectName("top_k")
                self.bars_layout.addWidget(bar)
                self.cam_class.addItem(p["label"], p["index"])
        else:
            self.legend.clear()
            palette = voc_palette()
            for c in result.classes:
                item = QListWidgetItem(f"{c['label']}: {100 * c['share']:.1f}%")
                swatch = QPixmap(14, 14)
                swatch.fill(QColor(*palette[c["index"]].tolist()))
                item.setIcon(QIcon(swatch))
                self.legend.addItem(item)
        self.redraw()

    # ---------------------------------------------------------------- Grad-CAM
    def set_cam_targets(self, targets, default) -> None:
        """The layers Grad-CAM can look at (CamTarget), ``default`` chosen."""
        self.cam_layer.blockSignals(True)
        self.cam_layer.clear()
        for t in targets:
            self.cam_layer.addItem(t.label, t)
        self.cam_layer.blockSignals(False)
        if default is not None:
            self.choose_cam_target(default)

    def choose_cam_target(self, target) -> None:
        """Look at ``target`` (added to the list when it is not a stage or a conv)."""
        for i in range(self.cam_layer.count()):
            if self.cam_layer.itemData(i).node == target.node:
                self.cam_layer.setCurrentIndex(i)
                return
        self.cam_layer.addItem(target.label, target)
        self.cam_layer.setCurrentIndex(self.cam_layer.count() - 1)

    def cam_target(self):
        return self.cam_layer.currentData()

    def request_cam(self) -> None:
        self.gradcamRequested.emit(int(self.cam_class.currentData() or 0))

    def show_cam(self, cam: np.ndarray, class_label: str = "", layer: str = "") -> None:
        self.cam = cam
        geometry = self.result.geometry if self.result is not None else None
        cls = f"‘{class_label}’" if class_label else "the class"
        self.cam_note.setText(CAM_SCALE.format(cls=cls, layer=layer or "this layer")
                              + (CROP_NOTE if geometry is not None and geometry.cropped()
                                 else ""))
        self.cam_scale.show()
        self._draw_bar()
        self.redraw()

    def _draw_bar(self) -> None:
        if self.cam_scale.isVisible():
            self.cam_bar.setPixmap(to_pixmap(colour_bar(max(self.cam_bar.width(), 8), 12)))

    def composed(self) -> Image.Image | None:
        """What the picture shows: the image, its overlay, its mask or its Grad-CAM."""
        r = self.result
        if r is None:
            return None
        if r.task == "segmentation" and r.mask is not None:
            if self.mask_only.isChecked():
                return colorize(r.mask)
            return overlay(r.image, r.mask, self.opacity.value() / 100)
        if self.cam is not None:
            from ...inference.preprocess import to_image_space

            heat = to_image_space(self.cam, r.geometry, Image.BILINEAR)
            return cam_overlay(r.image, heat, r.geometry.box if r.geometry.cropped()
                               else None, 0.5)
        return r.image

    def side_by_side(self) -> Image.Image | None:
        shown = self.composed()
        if shown is None:
            return None
        base = self.result.image.convert("RGB")
        out = Image.new("RGB", (base.width * 2 + 8, base.height), "white")
        out.paste(base, (0, 0))
        out.paste(shown.convert("RGB").resize(base.size), (base.width + 8, 0))
        return out

    def redraw(self, *_) -> None:
        img = self.composed()
        if img is None:
            return
        pix = to_pixmap(img)
        self.picture.setPixmap(pix.scaled(self.picture.size(), Qt.KeepAspectRatio,
                                          Qt.SmoothTransformation))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._draw_bar()
        self.redraw()
