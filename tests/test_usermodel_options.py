"""A person's model's constructor arguments are its options, read from the file without
running it: defaults (ints, floats, bools, strings, tuples of ints) are offered like the
zoo's and rebuild with exact counts; a required argument of a known type is built with a
guess, marked as one (was: "TypeError in NeedsArgs(): missing 1 required positional
argument"); one of unknown type gets a line that shows how to wrap the class."""

from __future__ import annotations

import pytest

from explorer import zoo
from explorer.probe import probe
from explorer.usermodel import UserModelError
from explorer.zoo.registry import ZooError, file_stem

SOURCE = '''
from torch import nn


class Base(nn.Module):
    def __init__(self, width: int = 8, eps=1e-5, bn=True, act="relu", kernel=(3, 3),
                 norm=None, *, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, width, kernel, padding=1)
        self.bn = nn.BatchNorm2d(width, eps=eps) if bn else nn.Identity()
        self.act = nn.ReLU() if act == "relu" else nn.Tanh()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, classes)

    def forward(self, x):
        return self.fc(self.pool(self.act(self.bn(self.conv(x)))).flatten(1))


class Child(Base):
    pass


class NeedsArgs(nn.Module):
    def __init__(self, num_classes, scale: float, mode):
        super().__init__()
        self.fc = nn.Linear(3 * 8 * 8, num_classes)

    def forward(self, x):
        return self.fc(x.flatten(1))


class Counted(nn.Module):
    def __init__(self, in_channels, num_classes):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 4, 3)
        self.fc = nn.Linear(4, num_classes)

    def forward(self, x):
        return self.fc(self.conv(x).mean((2, 3)))


def small(depth: int = 2):
    return nn.Sequential(*[nn.Conv2d(3, 3, 1) for _ in range(depth)])
'''


@pytest.fixture
def mine(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(SOURCE)
    return str(path)


def _params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_defaulted_arguments_are_options_and_rebuild_with_exact_counts(mine):
    info = zoo.get_info(f"{mine}:Base")
    assert info.defaults() == {"width": 8, "eps": 1e-5, "bn": True, "act": "relu",
                               "kernel": (3, 3), "classes": 10}  # norm=None is not offered
    assert "mine.py:6" in info.option("width").help
    base = zoo.build(f"{mine}:Base")
    assert _params(base) == (3 * 8 * 9 + 8) + 2 * 8 + (8 * 10 + 10)
    wider = zoo.build(f"{mine}:Base", width="16", kernel="1, 1", bn=False, classes=5)
    assert _params(wider) == (3 * 16 + 16) + (16 * 5 + 5)
    assert wider.conv.kernel_size == (1, 1)
    assert zoo.build(f"{mine}:Base", act="tanh").act.__class__.__name__ == "Tanh"
    with pytest.raises(ZooError, match="kernel='3, x' is not a tuple of ints"):
        zoo.build(f"{mine}:Base", kernel="3, x")
    # an __init__ inherited from a class in the same file, and a function's arguments
    assert zoo.get_info(f"{mine}:Child").defaults()["width"] == 8
    assert len(zoo.build(f"{mine}:small", depth=5)) == 5
    shown = zoo.variant_name(f"{mine}:Base", {"width": 16})
    assert shown == f"{mine}:Base with width=16" and file_stem(shown) == "Base_width-16"


def test_required_arguments_of_a_known_type_are_built_with_a_marked_guess(mine):
    info = zoo.get_info(f"{mine}:Counted")
    assert info.defaults() == {"in_channels": 3, "num_classes": 10}
    assert all(o.guessed and "guess" in o.help for o in info.options)
    assert _params(zoo.build(f"{mine}:Counted", num_classes=2)) == (3 * 4 * 9 + 4) + 4 * 2 + 2


def test_a_required_argument_of_unknown_type_says_how_to_wrap_the_class(mine):
    info = zoo.get_info(f"{mine}:NeedsArgs")
    assert [(o.name, o.default) for o in info.options] == [("num_classes", 10),
                                                           ("scale", 0.5)]
    with pytest.raises(UserModelError) as err:
        zoo.build(f"{mine}:NeedsArgs")
    text = str(err.value)
    assert "NeedsArgs() needs mode" in text and "TypeError" not in text
    assert "`def build(): return NeedsArgs(mode=…)`" in text


def test_the_probe_builds_with_the_options_it_is_given(mine):
    assert probe(f"{mine}:Base", (1, 3, 8, 8), options={"width": 4}).name == "Base"
    with pytest.raises(ZooError, match="width='wide'"):
        probe(f"{mine}:Base", (1, 3, 8, 8), options={"width": "wide"})
