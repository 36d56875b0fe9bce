"""One memory budget for the model itself: options inside their documented ranges that
would build a model over it are refused before anything is allocated, in a sentence that
says how much and which option drives it; graphs and tables of any size still work (on
the meta device), a person's 45 GB nn.Linear included."""

from __future__ import annotations

import pytest
from childproc import peak_growth, run_cli_limited

from explorer import zoo
from explorer.cli import main
from explorer.limits import MODEL_BUDGET
from explorer.zoo.budget import model_bytes
from explorer.zoo.registry import ZooError

OVER = [
    ("densenet121", {"depth": 201, "growth_rate": 256}, "growth_rate=256 drives it"),
    ("unet", {"base_width": 256}, "base_width=256 drives it"),
    ("vgg16", {"num_classes": 100_000}, "num_classes=100000 drives it"),
]
BIG_LINEAR = ("from torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
              "        super().__init__()\n        self.fc = nn.Linear(3 * 224 * 224, 80_000)\n"
              "\n    def forward(self, x):\n        return self.fc(x.flatten(1))\n")


def test_every_registered_default_fits_the_budget():
    """Why a default build skips the meta count."""
    for name in zoo.list_models():
        info = zoo.get_info(name)
        size = model_bytes(info, info.defaults())
        assert size is not None and size <= MODEL_BUDGET, (name, size)


@pytest.mark.parametrize(("name", "options", "driver"), OVER, ids=[o[0] for o in OVER])
def test_options_over_the_budget_are_refused_naming_the_option(name, options, driver):
    with pytest.raises(ZooError, match=rf"would take [\d.]+ GiB, over the .*; {driver}"):
        zoo.build(name, **options)


@pytest.mark.parametrize(("name", "options", "driver"), OVER[:2], ids=[o[0] for o in OVER[:2]])
def test_structure_of_an_oversized_model_still_works(name, options, driver, capsys):
    argv = [f"{k}={v}" for k, v in options.items()]
    assert main(["summary", name, *sum((["--option", a] for a in argv), [])]) == 0
    assert "| **total** |" in capsys.readouterr().out


def test_refusing_costs_no_more_than_the_budget():
    """The refusal happens on meta: the process grows far less than the model would."""
    grown, result = peak_growth(
        "from explorer import zoo\nzoo.build('lenet5')",
        "try:\n    zoo.build('densenet121', depth=201, growth_rate=256)\n"
        "except zoo.ZooError as exc:\n    result = str(exc)")
    assert "growth_rate=256 drives it" in result
    assert grown < MODEL_BUDGET / 2**20, grown


def test_a_persons_huge_linear_is_drawn_but_not_built(tmp_path):
    (tmp_path / "big.py").write_text(BIG_LINEAR)
    summary = run_cli_limited(["summary", "big.py:Net"], tmp_path)
    assert summary.returncode == 0 and "fc" in summary.stdout, summary.stderr
    image = tmp_path / "x.png"
    from PIL import Image

    Image.new("RGB", (32, 32)).save(image)
    run = run_cli_limited(["run", "big.py:Net", str(image), "-o", str(tmp_path / "o")],
                          tmp_path)
    lines = run.stderr.splitlines()
    assert run.returncode == 2 and len(lines) == 1, run.stderr
    assert "would take 44.9 GiB" in lines[0] and "own layers" in lines[0]
