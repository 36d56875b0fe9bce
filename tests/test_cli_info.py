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
