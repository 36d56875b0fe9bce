"""Where a result comes from random weights, the next steps that would make it mean
something (issue: the banner was a dead end for FCN-8s, SegNet, LeNet-5 and U-Net, and
`explorer run` printed `caldron (1.8%) on cpu` with no word that it was untrained)."""

from __future__ import annotations

import json

from childproc import REPO, run_cli_limited

from explorer.inference.next_steps import cli_note, next_steps


def test_each_kind_of_model_gets_a_way_to_meaningful_weights():
    fcn = next_steps("fcn8s")
    assert fcn.published == () and "fcn_resnet50" in fcn.related and fcn.demo
    lenet = next_steps("lenet5")
    assert lenet.published == () and not lenet.demo
    # its own trained weights ship with the app: not AlexNet or DenseNet (was)
    assert lenet.trained["path"].endswith("lenet5_digits.safetensors") and lenet.related == ()
    assert "--weights resources/trained/lenet5_digits.safetensors" in cli_note(lenet)
    assert "trained on digits, 97.2 % on 359 held-out images" in cli_note(lenet)
    resnet = next_steps("resnet18")
    assert resnet.published[0] == "IMAGENET1K_V1" and resnet.related == ()
    assert "--weights pretrained (IMAGENET1K_V1)" in cli_note(resnet)
    assert "--weights demo" in cli_note(next_steps("segnet"))


def test_the_cli_says_untrained_and_runs_the_demo_by_name(tmp_path):
    run = run_cli_limited(["run", "lenet5", "resources/demo/shapes_1.png", "--input",
                           "1,1,32,32", "-o", str(tmp_path / "l")], REPO, timeout=300,
                          cap_bytes=0)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].endswith("on cpu, untrained weights")
    assert not run.stderr  # a note, not a failure
    assert "untrained weights (random init)" in run.stdout and "--weights FILE" in run.stdout
    demo = run_cli_limited(["run", "unet_padded", "resources/demo/shapes_1.png", "--weights",
                            "demo", "-o", str(tmp_path / "d")], REPO, timeout=300, cap_bytes=0)
    assert demo.returncode == 0, demo.stderr
    assert "untrained weights" not in demo.stdout + demo.stderr
    labels = {c["label"] for c in json.loads((tmp_path / "d" / "prediction.json")
                                             .read_text())["classes"]}
    assert "background" in labels and labels & {"circle", "square", "triangle"}


def test_a_state_dict_for_other_options_says_which(tmp_path):
    """Was: "does not fit this model:;" with no hint of which options."""
    import pytest
    import torch

    from explorer import zoo
    from explorer.inference.weights import WeightsError, load_weights

    torch.save(zoo.build("lenet5", num_classes=3).state_dict(), tmp_path / "l3.pth")
    with pytest.raises(WeightsError, match=r"try the option num_classes=3") as err:
        load_weights(zoo.build("lenet5"), tmp_path / "l3.pth")
    assert ":\n" not in str(err.value)


def test_weights_for_a_model_without_any_names_the_demo(capsys):
    from explorer.cli.entry import main

    assert main(["weights", "unet"]) == 2
    err = capsys.readouterr().err
    assert "no published weights for unet" in err and "--weights demo" in err


def test_weights_of_another_network_say_so_not_other_options(tmp_path):
    """A file none of whose tensors the model has is another network's (was: "it was saved
    from a model with other options ... compare with explorer info MODEL --option …",
    for LeNet-5's weights loaded into a ResNet)."""
    import pytest
    import torch

    from explorer import zoo
    from explorer.inference.weights import WeightsError, load_weights

    torch.save(zoo.build("lenet5").state_dict(), tmp_path / "lenet.pth")
    with pytest.raises(WeightsError) as err:
        load_weights(zoo.build("resnet20_cifar"), tmp_path / "lenet.pth")
    first = str(err.value).splitlines()[0]
    assert "other options" not in first and "explorer info" not in first
    assert "another network" in first and "features.0.weight" in first and "conv1.weight" in first


def test_a_cifar_network_is_sent_to_training_not_to_imagenet_models():
    """Was: "Try alexnet (published weights), densenet121 …" for resnet20_cifar: ImageNet
    networks, another task's classes; training it is the way here."""
    steps = next_steps("resnet20_cifar")
    assert steps.related == () and steps.train
    note = cli_note(steps)
    assert "alexnet" not in note and "explorer train resnet20_cifar --dataset" in note
    assert not next_steps("resnet18").train  # its published weights come first
    assert next_steps("resnet34_plain").related  # the ResNets' weights: same classes
    assert next_steps("segnet").related == ("fcn_resnet50",)
