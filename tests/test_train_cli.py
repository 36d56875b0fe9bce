"""``explorer train`` on tiny data: the run folder, --vs, --resume, one-line errors, and
``explorer run`` taking the trained weights with the options they were trained with."""

from __future__ import annotations

import csv
import json

from PIL import Image

from explorer import cli
from explorer.cli import train_command
from explorer.training import PRESETS
from explorer.training.datasets import NAMES


def train(*args: str) -> int:
    return cli.main(["train", *args])


def test_the_parsers_lists_are_the_trainings():
    assert set(train_command.DATASETS) == set(NAMES) and set(train_command.PRESETS) == set(
        PRESETS)


def test_train_two_models_then_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert train("lenet5", "--dataset", "digits", "--vs", "lenet5", "--vs-option",
                 "activation=relu", "--epochs", "1", "--train-size", "64", "--test-size", "32",
                 "--batch-size", "32", "-o", str(out)) == 0
    text = capsys.readouterr().out
    assert "lenet5 (activation=relu)" in text and "trained 1 epoch on digits" in text
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [(r["model"], r["epoch"]) for r in rows] == [("lenet5", "1"),
                                                        ("lenet5 (activation=relu)", "1")]
    assert 0 <= float(rows[0]["test_error"]) <= 1 and rows[0]["mean_iou"] == ""
    assert (out / "curves.png").is_file() and (out / "weights.safetensors").is_file()
    # the folder holds a run: a second train there must say how to continue it
    assert train("lenet5", "--dataset", "digits", "-o", str(out)) == 2
    assert "--resume" in capsys.readouterr().err
    assert train("lenet5", "--dataset", "digits", "--vs", "lenet5", "--vs-option",
                 "activation=relu", "--epochs", "2", "--train-size", "64", "--test-size", "32",
                 "--batch-size", "32", "-o", str(out), "--resume") == 0
    assert "resumed at epoch lenet5 1, lenet5 (activation=relu) 1" in capsys.readouterr().out
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "1", "2"]


def test_run_takes_the_trained_weights(tmp_path, capsys):
    folder = tmp_path / "images"
    for name, colour in (("red", (220, 20, 20)), ("green", (20, 220, 20)),
                         ("blue", (20, 20, 220))):
        (folder / name).mkdir(parents=True)
        for i in range(4):
            Image.new("RGB", (32, 32), colour).save(folder / name / f"{i}.png")
    out = tmp_path / "run"
    assert train("lenet5", "--dataset", str(folder), "--epochs", "1", "-o", str(out)) == 0
    meta = json.loads((out / "run.json").read_text())
    assert meta["models"][0]["options"]["num_classes"] == 3
    capsys.readouterr()
    assert cli.main(["run", "lenet5", str(folder / "red" / "0.png"), "--weights",
                     str(out / "weights.safetensors"), "-o", str(tmp_path / "pred")]) == 0
    pred = json.loads((tmp_path / "pred" / "prediction.json").read_text())
    assert len(pred["top_k"]) == 3  # three classes: the run's options were used


def test_bad_requests_are_one_line(tmp_path, capsys):
    assert train("unet_padded", "--dataset", "shapes", "--train-size", "8", "--test-size", "4",
                 "-o", str(tmp_path / "a")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "segmentation network" in err[0]
    assert train("lenet5", "--dataset", str(tmp_path / "nowhere"), "-o",
                 str(tmp_path / "b")) == 2
    assert "no such data set" in capsys.readouterr().err
    assert train("lenet5", "--device", "tpu", "-o", str(tmp_path / "c")) == 2


def test_a_run_folder_holding_a_pipe_or_an_input_is_refused_before_training(tmp_path, capsys):
    """The run's files are written as exports are: a pipe named run.json is refused in one
    line before any step (writing it in place blocked forever after the training)."""
    import os

    out = tmp_path / "run"
    out.mkdir()
    os.mkfifo(out / "run.json")
    assert train("lenet5", "--dataset", "digits", "--train-size", "8", "--test-size", "4",
                 "--epochs", "1", "-o", str(out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run.json" in err[0] and "not a regular file" in err[0]
    assert not (out / "metrics.csv").exists()  # refused before the first step
