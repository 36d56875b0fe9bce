"""Compare mode and lessons: two models side by side, and the checkable claims."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..controllers.workers import Runner
from ..errors import describe


def comparison_html(c) -> str:
    a, b = escape(c.a.model), escape(c.b.model)
    rows = "".join(f"<tr><td>{m}</td><td align=right>{va:,}</td><td align=right>{vb:,}</td>"
                   f"<td align=right>{r:.3f}</td></tr>" for m, (va, vb, r) in c.totals.items())
    stages = "".join(
        f"<tr><td>{s}</td><td align=right>{fa['macs']:,}</td><td align=right>{fb['macs']:,}"
        f"</td><td align=right>{fa['params']:,}</td><td align=right>{fb['params']:,}</td></tr>"
        for s, fa, fb in c.stages)
    return (f"<h3>{a} vs {b}</h3><table border=1 cellpadding=4 cellspacing=0>"
            f"<tr><th>metric</th><th>{a}</th><th>{b}</th><th>{b} / {a}</th></tr>{rows}</table>"
            f"<h4>By resolution stage</h4><table border=1 cellpadding=4 cellspacing=0>"
            f"<tr><th>stage</th><th>{a} MACs</th><th>{b} MACs</th><th>{a} params</th>"
            f"<th>{b} params</th></tr>{stages}</table>")


BAR_A, BAR_B = QColor("#1f77b4"), QColor("#ff7f0e")  # the two models, as in the legend


def bar_rows(c) -> list[tuple[str, int, int, str]]:
    """What the bars draw: (label, a, b, group); a row's two bars share one scale (its
    group's largest value), so stages show where each model spends its MACs."""
    names = {"params": "parameters", "macs": "MACs", "activation_bytes": "activations"}
    rows = [(names.get(m, m), va, vb, m) for m, (va, vb, _) in c.totals.items()]
    rows += [(f"{s} MACs", fa["macs"], fb["macs"], "stage") for s, fa, fb in c.stages
             if fa["macs"] or fb["macs"]]
    return rows


class ComparisonBars(QWidget):
    """The comparison drawn: per total and per stage, model A's bar over model B's (was:
    numbers only)."""

    ROW = 30

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, int, int, str]] = []
        self.names = ("", "")
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Minimum)

    def show_comparison(self, c) -> None:
        self.rows, self.names = bar_rows(c), (c.a.model, c.b.model)
        self.setMinimumHeight(self.ROW * (len(self.rows) + 1))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(520, self.ROW * (len(self.rows) + 1))

    def label_width(self) -> int:
        """The longest row label's width (was a fixed 170 px: 'head (after global
        pooling) MACs' lost its start), at most 40 % of the widget."""
        metrics = self.fontMetrics()
        longest = max((metrics.horizontalAdvance(r[0]) for r in self.rows), default=0)
        return min(longest + 12, int(0.4 * self.width()))

    def scale(self, group: str) -> int:
        return max([max(a, b) for _, a, b, g in self.rows if g == group] or [1]) or 1

    def paintEvent(self, event) -> None:
        from ...export.table_export import human
        from ...limits import bytes_text

        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        text = self.palette().text().color()
        label_width = self.label_width()
        width = max(40, self.width() - label_width - 90)
        p.setPen(text)
        for i, (name, colour) in enumerate(zip(self.names, (BAR_A, BAR_B))):
            x = label_width + i * width // 2
            p.fillRect(QRectF(x, 8, 12, 12), colour)
            p.drawText(QRectF(x + 16, 2, width // 2 - 20, 24), Qt.AlignVCenter, name)
        for row, (label, a, b, group) in enumerate(self.rows):
            top = self.ROW * (row + 1)
            p.setPen(text)
            p.drawText(QRectF(4, top, label_width - 8, self.ROW - 4),
                       Qt.AlignVCenter | Qt.AlignRight, label)
            scale = self.scale(group)
            for k, (value, colour) in enumerate(((a, BAR_A), (b, BAR_B))):
                y = top + 2 + k * 13
                length = width * value / scale
                p.fillRect(QRectF(label_width, y, max(length, 1 if value else 0), 11), colour)
                words = bytes_text(value) if group == "activation_bytes" else human(value)
                p.setPen(text)
                p.drawText(QRectF(label_width + length + 4, y - 2, 86, 15), Qt.AlignVCenter,
                           words)
        p.end()


class CompareDialog(QDialog):
    def __init__(self, names: list[str], a: str, b: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare models")
        self.resize(760, 560)
        self.a, self.b = QComboBox(), QComboBox()
        for combo, value in ((self.a, a), (self.b, b)):
            combo.addItems(names)
            combo.setCurrentText(value)
            combo.currentTextChanged.connect(self.compute)
        self.text = QTextBrowser()
        self.bars = ComparisonBars()
        top = QHBoxLayout()
        top.addWidget(self.a)
        top.addWidget(self.b)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.bars)
        split.addWidget(self.text)
        layout.addWidget(split, 1)
        self.runner = Runner(self)
        self.runner.finished.connect(self._done)
        self.runner.failed.connect(lambda g, exc: self.text.setPlainText(describe(exc)))
        self.compute()

    def compute(self) -> None:
        from ...analysis import compare, summarize

        a, b = self.a.currentText(), self.b.currentText()
        self.text.setPlainText(f"Counting {a} and {b}…")
        self.runner.submit(lambda progress: compare(summarize(a), summarize(b)))

    def _done(self, generation, result, note) -> None:
        if result is not None and self.runner.is_current(generation):
            self.text.setHtml(comparison_html(result))
            self.bars.show_comparison(result)


def lesson_picker(dialog: QDialog, titles: list[str], on_row, button: QPushButton
                  ) -> tuple[QListWidget, QTextBrowser]:
    """The lessons dialogs' shared face: the titles on the left (wrapped, never cut), the
    chosen lesson's text on the right with ``button`` under it."""
    titles_list = QListWidget()
    titles_list.addItems(titles)
    titles_list.setWordWrap(True)  # long titles wrap instead of being cut
    titles_list.setTextElideMode(Qt.ElideNone)
    titles_list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    titles_list.setResizeMode(QListWidget.Adjust)
    for i, title in enumerate(titles):
        titles_list.item(i).setToolTip(title)
    titles_list.currentRowChanged.connect(on_row)
    text = QTextBrowser()
    right = QVBoxLayout()
    right.addWidget(text)
    right.addWidget(button)
    layout = QHBoxLayout(dialog)
    layout.addWidget(titles_list, 1)
    layout.addLayout(right, 2)
    return titles_list, text


class LessonsDialog(QDialog):
    """Each lesson's claim, checked against figures computed now."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        from ...analysis.lessons import load_lessons

        self.setWindowTitle("Lessons")
        self.resize(820, 560)
        self.lessons = load_lessons()
        self.open_button = QPushButton("Compare these models")
        self.open_button.clicked.connect(self._compare)
        self.list, self.text = lesson_picker(self, [lesson.title for lesson in self.lessons],
                                             self.show_lesson, self.open_button)
        self.runner = Runner(self)
        self.runner.finished.connect(self._done)
        self.list.setCurrentRow(0)

    def show_lesson(self, row: int) -> None:
        from ...analysis.lessons import evaluate, is_flow_lesson

        lesson = self.lessons[row]
        self.text.setHtml(f"<h3>{escape(lesson.title)}</h3><p>{escape(lesson.claim)}</p>"
                          "<p><i>computing…</i></p>")
        self.open_button.setEnabled(all("zoo" in m for m in lesson.models[:2]))
        self.open_button.setText("Show their gradient flow" if is_flow_lesson(lesson)
                                 else "Compare these models")
        self.runner.submit(lambda progress: evaluate(lesson))

    def _done(self, generation, result, note) -> None:
        if result is None or not self.runner.is_current(generation):
            return
        from ...analysis.lessons import fmt_value

        lesson = result.lesson
        rows = "".join(
            f"<tr><td>{escape(metric)}</td><td>{escape(label)}</td>"
            f"<td align=right>{fmt_value(metric, v)}</td></tr>"
            for metric, values in result.figures.items()
            for label, v in zip(result.labels, values))
        checks = "".join(f"<li>{'✔' if ok else '✘'} {escape(text)}</li>"
                         for _, ok, text in result.checks)
        self.text.setHtml(f"<h3>{escape(lesson.title)}</h3><p>{escape(lesson.claim)}</p>"
                          f"<table border=1 cellpadding=4 cellspacing=0>{rows}</table>"
                          f"<ul>{checks}</ul>")

    def _compare(self) -> None:
        """The lesson's two models in the compare window, its claim above them."""
        from ...analysis.lessons import is_flow_lesson
        from ...diffstate import model_text

        lesson = self.lessons[self.list.currentRow()]
        window = self.parent()
        if is_flow_lesson(lesson) and hasattr(window, "flow"):  # the Flow dock, both drawn
            first, second = lesson.models[:2]
            window.flow.open_pair(first["zoo"], second["zoo"], first.get("options", {}))
            self.accept()
            return
        a, b = (model_text(m["zoo"], m.get("options", {})) for m in lesson.models[:2])
        if hasattr(window, "open_compare"):
            window.open_compare(a, b, f"{lesson.title}: {lesson.claim}")
            self.accept()
        else:
            from ... import zoo

            CompareDialog(zoo.list_models(), a.split(":")[0], b.split(":")[0], self).exec()
