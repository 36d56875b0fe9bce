"""Model ▸ Training lessons…: each lesson's claim and a Run button that trains its models
side by side in the Training dock; when the run ends the dock says what it measured."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QDialog, QPushButton

from ..dialogs.compare import lesson_picker


class TrainingLessonsDialog(QDialog):
    def __init__(self, lessons, run, parent=None) -> None:
        super().__init__(parent)
        from ...training.recipes import get_recipe

        self.setWindowTitle("Training lessons")
        self.resize(760, 420)
        self.lessons, self.run_lesson, self.get_recipe = lessons, run, get_recipe
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self._run)
        self.list, self.text = lesson_picker(self, [lesson.title for lesson in lessons],
                                             self.show_lesson, self.run_button)
        self.list.setCurrentRow(0)

    def show_lesson(self, row: int) -> None:
        lesson = self.lessons[row]
        recipe = self.get_recipe(lesson.preset)
        models = " and ".join(escape(m + (" (" + ", ".join(f"{k}={v}" for k, v in o.items())
                                            + ")" if o else "")) for m, o in lesson.models)
        data = f"<i>{escape(lesson.dataset)}</i>" + (
            f" ({lesson.train_size:,} training images)" if lesson.train_size else "")
        self.text.setHtml(f"<h3>{escape(lesson.title)}</h3><p>{escape(lesson.claim)}</p>"
                          f"<p><b>The run:</b> {models} on {data}, "
                          f"{escape(recipe.title)}, {recipe.epochs} epochs, the same data "
                          f"order for each; the Training dock draws the curves and says what "
                          f"this run measured.</p>")

    def _run(self) -> None:
        self.run_lesson(self.lessons[self.list.currentRow()])
        self.accept()
