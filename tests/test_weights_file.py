"""File ▸ Save weights' core (explorer.export.weights_file): a model's weights to a
.safetensors file that load_weights reads back, written whole or not at all."""

from __future__ import annotations

import pytest
import torch
from safetensors import safe_open

from explorer import zoo
from explorer.export.files import DestinationError
from explorer.export.weights_file import save_weights, saved_labels
from explorer.inference.weights import load_weights


def test_saved_weights_load_back_into_a_fresh_model(tmp_path):
    model = zoo.build("lenet5")
    path = save_weights(model, tmp_path / "lenet.safetensors", "trained 2 epochs on digits",
                        "digits")
    with safe_open(str(path), framework="pt") as f:
        assert f.metadata() == {"weights": "trained 2 epochs on digits", "labels": "digits"}
    assert saved_labels(path) == "digits"
    assert saved_labels(save_weights(model, tmp_path / "plain.safetensors")) is None
    (tmp_path / "broken.safetensors").write_bytes(b"not a safetensors file")
    assert saved_labels(tmp_path / "broken.safetensors") is None
    fresh = zoo.build("lenet5")
    assert not torch.equal(fresh.features[0].weight, model.features[0].weight)
    report = load_weights(fresh, path)
    assert report.ok and report.loaded == len(model.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(),
                                                 model.state_dict().values()))


def test_a_wrong_suffix_or_folder_is_refused_and_leaves_nothing(tmp_path):
    model = zoo.build("lenet5")
    with pytest.raises(DestinationError, match="saved as .safetensors"):
        save_weights(model, tmp_path / "lenet.pth")
    with pytest.raises(DestinationError, match="does not exist"):
        save_weights(model, tmp_path / "missing" / "lenet.safetensors")
    assert list(tmp_path.iterdir()) == []
    assert saved_labels(tmp_path / "missing.safetensors") is None
