"""Commands that need no model start without torch; meta builds run no weight init; the
catalogue that makes this possible matches the family files."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import torch

from explorer import zoo
from explorer.zoo import catalogue, registry


def fresh(code: str) -> str:
    """Run ``code`` in a fresh interpreter; its stdout."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["list", "resnet*"], ["lessons"],
                                  ["info", "resnet34"], ["info", "segnet"]])
def test_commands_without_a_model_do_not_import_torch(argv):
    out = fresh(f"""
        import contextlib, io, sys
        from explorer.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as text:
            try:
                code = main({argv!r})
            except SystemExit as exc:  # --help
                code = exc.code
        print(code, len(text.getvalue()) > 0, "torch" in sys.modules)
    """)
    assert out.split() == ["0", "True", "False"]


def test_info_takes_the_parameter_count_from_the_catalogue(capsys):
    from explorer.cli import main

    assert main(["info", "vgg16"]) == 0
    assert "params      138,357,544" in capsys.readouterr().out
    assert main(["info", "vgg16", "--option", "num_classes=10"]) == 0  # built on meta
    assert "params      134,301,514" in capsys.readouterr().out


def test_the_first_meta_build_does_not_import_dynamo():
    # ResNet initialises with kaiming_normal_, which on meta tensors goes through torch's
    # reference implementations and their torch._dynamo import.
    out = fresh("""
        import sys, torch
        from explorer import zoo
        with torch.device("meta"):
            model = zoo.build("resnet50")
        print(next(model.parameters()).is_meta, "torch._dynamo" in sys.modules)
    """)
    assert out.split() == ["True", "False"]


def test_real_builds_still_initialise_their_weights():
    torch.manual_seed(0)
    conv = zoo.build("resnet18").conv1.weight  # kaiming_normal_, fan_out: std sqrt(2 / 3136)
    assert conv.std().item() == pytest.approx((2 / (64 * 49)) ** 0.5, rel=0.1)
    assert zoo.build("resnet18").bn1.weight.eq(1).all()


def test_catalogue_is_current_and_matches_the_family_files():
    hint = "the zoo changed: run `python -m explorer.zoo.catalogue` to rewrite catalogue.json"
    current = catalogue.read_catalogue(catalogue.PATH)
    assert current is not None, hint
    registry.load_families()
    assert current.models == registry._REGISTRY, hint
    for name in sorted(registry._REGISTRY):
        with torch.device("meta"):
            model = zoo.build(name)
        assert current.params[name] == sum(p.numel() for p in model.parameters()), hint


def test_a_stale_catalogue_is_not_used(tmp_path):
    data = json.loads(catalogue.PATH.read_text())
    (tmp_path / "family.py").write_text("# a source the catalogue was not written from\n")
    (tmp_path / "catalogue.json").write_text(json.dumps(data))
    assert catalogue.read_catalogue(tmp_path / "catalogue.json") is None
    data["digest"] = catalogue.source_digest(tmp_path)
    (tmp_path / "catalogue.json").write_text(json.dumps(data))
    assert catalogue.read_catalogue(tmp_path / "catalogue.json") is not None
    assert catalogue.read_catalogue(tmp_path / "missing.json") is None


def test_metadata_from_the_catalogue_builds_the_registered_model():
    out = fresh("""
        import sys
        from explorer import zoo
        info = zoo.get_info("resnet34_plain")
        before = "torch" in sys.modules
        model = info.builder(**info.resolve({}))
        print(before, type(model).__name__, zoo.get_info("resnet34_plain") == info)
    """)
    assert out.split() == ["False", "ResNet", "True"]


def test_a_new_name_cannot_take_a_zoo_models_name_before_the_zoo_loads():
    out = fresh("""
        from explorer import zoo
        try:
            zoo.registry.register_model("vgg16", object, family="x", task="classification",
                                        paper="x", year=2000, input_shape=(3, 8, 8))
        except zoo.ZooError as exc:
            print("refused:", exc)
    """)
    assert out.startswith("refused:") and "already registered" in out
