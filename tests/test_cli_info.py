"""`explorer info` describes the model the options make (was: shortcut=A counted A's
parameters but listed shortcut='B', claimed torchvision's weights load as-is, and
--format json was ignored without --layer)."""

from __future__ import annotations

import json

from explorer.cli.entry import main


def test_info_lists_the_chosen_options_and_whether_torchvision_weights_load(capsys):
    assert main(["info", "resnet34", "--option", "shortcut=A"]) == 0
    out = capsys.readouterr().out
    assert "shortcut='A' (default 'B')" in out and "shortcut='B'  " not in out
    assert "do not load with shortcut='A'" in out and "load as-is" not in out
    assert main(["info", "resnet34", "--option", "stride_on=1x1"]) == 0
    assert "weights load as-is" in capsys.readouterr().out  # same names and shapes


def test_info_as_json_without_a_layer(capsys):
    assert main(["info", "resnet34", "--option", "shortcut=A", "--format", "json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["params"] == 21_623_848 and facts["torchvision_weights_load"] is False
    shortcut = next(o for o in facts["options"] if o["name"] == "shortcut")
    assert (shortcut["value"], shortcut["default"]) == ("A", "B")


GUESSED = '''
from torch import nn


class Mine(nn.Module):
    def __init__(self, num_classes: int, width=8):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.fc(self.conv(x).mean((2, 3)))
'''


def test_info_never_calls_a_guessed_argument_a_default(capsys, tmp_path):
    """A required argument built with a guess has no default (was: `num_classes=5
    (default 10)`, and JSON "default": 10); an unbounded int reads "an int" (was "an int
    in [-inf, inf]"), and a model file has no paper year (was "paper mine.py (0)")."""
    mine = tmp_path / "mine.py"
    mine.write_text(GUESSED)
    assert main(["info", f"{mine}:Mine", "--option", "num_classes=5"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.strip().startswith("num_classes="))
    assert "(default" not in line and "no default" in line and "guess" in line
    assert "(an int)" in line and "[-inf" not in out
    assert "(0)" not in next(x for x in out.splitlines() if "paper" in x)
    assert "width=8  (an int)" in out  # a real default is unchanged
    assert main(["info", f"{mine}:Mine", "--format", "json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    guessed = next(o for o in facts["options"] if o["name"] == "num_classes")
    assert guessed["default"] is None and guessed["value"] == 10 and guessed["guessed"] is True
    width = next(o for o in facts["options"] if o["name"] == "width")
    assert width["default"] == 8 and width["guessed"] is False
