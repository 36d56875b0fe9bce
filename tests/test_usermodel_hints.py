"""A person's model class that needs constructor arguments gets a way forward (was:
"TypeError in NeedsArgs(): missing 1 required positional argument", no hint)."""

from __future__ import annotations

import pytest

from explorer.usermodel import UserModelError, load_user_model


def test_a_class_that_needs_arguments_says_how_to_open_it(tmp_path):
    path = tmp_path / "net.py"
    path.write_text("import torch.nn as nn\n\n"
                    "class NeedsArgs(nn.Module):\n"
                    "    def __init__(self, classes, width=8):\n"
                    "        super().__init__()\n"
                    "        self.fc = nn.Linear(width, classes)\n\n"
                    "    def forward(self, x):\n"
                    "        return self.fc(x)\n\n"
                    "def small():\n"
                    "    return NeedsArgs(3)\n")
    with pytest.raises(UserModelError) as err:
        load_user_model(f"{path}:NeedsArgs")
    text = str(err.value)
    assert "NeedsArgs() needs classes" in text
    assert "`def build(): return NeedsArgs(classes=…)`" in text
    assert "open net.py:build" in text
    assert "TypeError" not in text
    assert load_user_model(f"{path}:small").fc.out_features == 3
