"""The windows the menus open beside the main one: Model ▸ Compare with…, Help ▸ Lessons,
Help ▸ Keyboard shortcuts and About. Mixed into MainWindow."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from ..main import APP


def compare_partner(name: str, shown: str) -> str:
    """What Compare with… puts beside ``shown`` (``name`` with its options): the default
    model when options were changed, else its plain or residual twin, else another of its
    family, else ResNet-34 (was ResNet-34 for every model, CIFAR networks included)."""
    from ... import zoo
    from ..flow.controller import twin

    names = zoo.list_models()
    if shown != name:
        return name
    family = [m for m in names if m != name and name in names
              and zoo.get_info(m).family == zoo.get_info(name).family]
    return twin(name, names) or (family[0] if family else
                                 "resnet34" if name != "resnet34" else "resnet34_plain")


class CompareAndHelpMixin:
    def ask_compare(self) -> None:
        """Model ▸ Compare with…: the current model beside another, the difference drawn."""
        from ...diffstate import model_text

        p = self.state.model
        a = model_text(p.name, p.options) if p else "resnet34_plain"
        self.open_compare(a, compare_partner(p.name if p else a, a))

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
