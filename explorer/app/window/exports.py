"""File ▸ Export… (the diagram as PNG or SVG, the graph as DOT or JSON, the table as CSV
or Markdown) and File ▸ Export image; never onto a file the window has open. Mixed into
MainWindow; every failure goes through ``show_error``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from ...zoo import model_file


class ExportsMixin:
    def ask_export(self, fmt: str = "png") -> None:
        from ..dialogs.export import ExportDialog

        if self.state.model is None:
            return
        from ...zoo.registry import file_stem

        shown = self.shown_name()
        dialog = ExportDialog(shown if ":" in shown and ".py:" not in shown
                              else file_stem(shown), fmt,
                              str(self.settings.value("export_folder", "")), self,
                              extent=self._export_extent)
        if dialog.exec():
            self.export(dialog.request())

    def export(self, request) -> bool:
        """Write one ExportRequest; the folder is remembered for the next one."""
        from ...export.files import protecting

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
        from ...export.files import check_destination, write_text_atomic
        from ...export.graph_export import write_graph
        from ...export.table_export import table_csv, table_markdown

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
        from ..graph.exports import export_extent

        view = self.panel.view
        return export_extent(self.panel.scene, None if whole else
                             view.mapToScene(view.viewport().rect()).boundingRect())

    def export_diagram(self, path: str, whole: bool = True, scale: float | None = None,
                       transparent: bool = False) -> None:
        """The scene as the person sees it (PNG at 2×, SVG at its size unless ``scale``
        says otherwise); raises OSError or ValueError (ExportTooLarge past what common
        tools open)."""
        from ..dialogs.export import DEFAULT_SCALE
        from ..graph.exports import export_png, export_svg

        view = self.panel.view
        rect = None if whole else view.mapToScene(view.viewport().rect()).boundingRect()
        if path.lower().endswith(".svg"):
            export_svg(self.panel.scene, path, rect, title=self.windowTitle(),
                       scale=scale or DEFAULT_SCALE["svg"])
        else:
            export_png(self.panel.scene, path, rect, scale or DEFAULT_SCALE["png"],
                       transparent)

    def ask_export_image(self, what: str) -> None:
        from ...zoo.registry import file_stem

        stem = self.state.model.name if self.state.model else "image"
        if stem in self.catalogue.items:  # a zoo model, named as its options make it
            stem = file_stem(self.shown_name())
        path, _ = QFileDialog.getSaveFileName(self, f"Export {what}", f"{stem}-{what}.png",
                                              "PNG (*.png)")
        if path and self.export_image(what, path):
            self.status_label.setText(f"Exported {path}")

    def export_image(self, what: str, path: str) -> bool:
        """The feature grid, the overlay or both side by side, as a PNG."""
        from ...export.files import check_destination, protecting, save_image_atomic
        from ...inference.render import channel_grid, grid_image

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
