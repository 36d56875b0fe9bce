"""The gradient-flow lessons: figures computed by one backward pass, checked in orders of
magnitude, never typed into the claims."""

from __future__ import annotations

import math
import re

import pytest

from explorer.analysis.lessons import evaluate, fmt_value, get_lesson, is_flow_lesson, load_lessons
from explorer.cli import main

FLOW = [lesson for lesson in load_lessons() if is_flow_lesson(lesson)]
# log10 of first-conv / last-conv gradient RMS, measured when the lessons were written
# (seed 0; seeds 0 and 1 agreed within 0.7); each must stay within one order of it.
MEASURED = {
    "flow-plain-vs-residual-20": (2.1, 1.6), "flow-plain-vs-residual-56": (4.9, 2.1),
    "flow-plain-vs-residual-110": (8.4, 2.5), "flow-plain-vs-residual-34": (3.7, 2.6),
    "flow-plain-vs-residual-152": (13.4, 4.9), "flow-preact-vs-original-152": (4.9, 4.1),
    "flow-preact-vs-original-164": (4.4, 3.8),
}


def test_the_lessons_the_issue_asks_for_are_there():
    assert {lesson.id for lesson in FLOW} == set(MEASURED)
    for lesson in FLOW:
        assert len(lesson.models) == 2 and all("zoo" in m for m in lesson.models)
        # the claim names no measured figure: those are computed
        assert not re.search(r"\d\.\de[+-]?\d|10\^", lesson.claim), lesson.claim
        assert "needs training" in lesson.claim or "Measured here" in lesson.claim


@pytest.mark.parametrize("lesson", FLOW, ids=lambda lesson: lesson.id)
def test_figures_computed_within_an_order_of_magnitude(lesson):
    result = evaluate(lesson)
    logs = [math.log10(v) for v in result.figures["grad_first_over_last"]]
    for got, expected in zip(logs, MEASURED[lesson.id]):
        assert abs(got - expected) <= 1.0, (lesson.id, logs)
    assert result.holds, [text for _, ok, text in result.checks if not ok]


def test_the_plain_networks_gradient_explodes_more_with_depth():
    plain = [math.log10(evaluate(get_lesson(f"flow-plain-vs-residual-{d}"))
                        .figures["grad_first_over_last"][0]) for d in (20, 56, 110)]
    assert plain == sorted(plain) and plain[-1] - plain[0] > 4


def test_a_check_that_does_not_hold_says_so():
    lesson = get_lesson("flow-plain-vs-residual-20")
    lesson.expect = {"grad_first_over_last": {"orders_apart": [5, 9]}}
    result = evaluate(lesson)
    assert not result.holds
    assert "orders of magnitude (expected +5 to +9)" in result.checks[0][2]
    assert fmt_value("grad_first_over_last", 1234.5) == "1.2e+03"
    assert fmt_value("params", 1234.5) == "1,234"


def test_the_command_line_prints_the_figures(capsys):
    assert main(["lessons", "flow-plain-vs-residual-20"]) == 0
    out = capsys.readouterr().out
    assert "grad_first_over_last" in out and "holds: gradient RMS, first conv / last conv" in out
