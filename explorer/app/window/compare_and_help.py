"""The windows the menus open beside the main one: Model ▸ Compare with…, Help ▸ Lessons,
Help ▸ Keyboard shortcuts and About. Mixed into MainWindow."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from ..main import APP


class CompareAndHelpMixin:
    def ask_compare(self) -> None:
        """Model ▸ Compare with…: the current model beside another, the difference drawn."""
        from ...diffstate import model_text

        p = self.state.model
        a = model_text(p.name, p.options) if p else "resnet34_plain"
        self.open_compare(a, "resnet34" if a != "resnet34" else "resnet34_plain")

    def open_compare(self, a: str, b: str, claim: str = "") -> None:
        from ... import zoo
        from ..diff.compare_window import CompareWindow

        self.compare_window = CompareWindow(zoo.list_models(), a, b, self.models.measure,
                                            self.runner.pool, self, claim)
        self.compare_window.show()

    def show_lessons(self) -> None:
        from ..dialogs.compare import LessonsDialog

        LessonsDialog(self).exec()

    def show_shortcuts(self) -> None:
        from ..actions import shortcut_table

        rows = "".join(f"<tr><td><b>{keys}</b></td><td>{what}</td></tr>"
                       for keys, what in shortcut_table())
        QMessageBox.information(self, f"{APP}: keyboard shortcuts",
                                f"<table cellspacing=6>{rows}</table>")

    def about(self) -> None:
        from ..main import about_text

        QMessageBox.about(self, f"About {APP}", about_text())
