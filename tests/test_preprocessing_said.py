"""How an image became the model's input is said, not done silently: the original size,
the resize, the crop and the normalisation, in the CLI's output and prediction.json (was:
a 10x10 image scaled to 224x224 without a word); Grad-CAM's candidate layers and its
picture with the crop region and a colour bar."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from explorer.cli import main
from explorer.inference.preprocess import Recipe, preprocess, preprocess_recipe


def flat(w: int, h: int) -> Image.Image:
    return Image.new("RGB", (w, h), (200, 40, 40))


def test_each_fit_names_its_steps():
    _, g = preprocess(flat(10, 10), (3, 224, 224), (0.485, 0.456, 0.406),
                      (0.229, 0.224, 0.225), "crop")
    steps = g.steps
    assert steps[0] == "resized 10×10 → 256×256 (bilinear)"
    assert steps[1] == "centre 224×224 cropped"
    assert steps[2] == "normalised with mean 0.485, 0.456, 0.406 and std 0.229, 0.224, 0.225"
    _, g = preprocess(flat(300, 200), (3, 100, 100), (0,) * 3, (1,) * 3, "pad")
    assert g.steps[:2] == ("resized 300×200 → 100×67 (bilinear)", "padded with black to 100×100")
    _, g = preprocess(flat(300, 200), (1, 32, 32), (0.5,), (0.5,), "resize")
    assert g.steps[:2] == ("stretched 300×200 → 32×32 (bilinear)", "converted to grey")
    recipe = Recipe(232, 224, "bilinear", (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    _, g = preprocess_recipe(flat(400, 300), recipe)
    assert g.steps[:2] == ("resized 400×300 → 309×232 (bilinear)", "centre 224×224 cropped")


def test_geometry_as_data():
    _, g = preprocess(flat(10, 10), (3, 224, 224), (0.5,) * 3, (0.5,) * 3, "crop")
    d = g.as_dict()
    assert d["image_size"] == [10, 10] and d["input_size"] == [224, 224]
    assert d["steps"] == list(g.steps) and len(d["crop_box"]) == 4
    assert "scaled up" in d["summary"]


def test_cli_says_the_original_size_and_the_preprocessing(tmp_path, capsys):
    flat(10, 10).save(tmp_path / "tiny.png")
    assert main(["run", "resnet18", str(tmp_path / "tiny.png"), "--device", "cpu",
                 "--input", "1,3,32,32", "-o", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "10×10 px image → 32×32 input" in out
    assert "preprocessing: resized 10×10 → 37×37 (bilinear), centre 32×32 cropped" in out
    pred = json.loads((tmp_path / "o" / "prediction.json").read_text())
    assert pred["input"]["image_size"] == [10, 10]
    assert pred["input"]["steps"][1] == "centre 32×32 cropped"
    assert np.allclose(pred["input"]["crop_box"], [0.547, 0.547, 9.297, 9.297], atol=0.01)


# ------------------------------------------------------------------------ Grad-CAM
def resnet18_graph():
    import torch

    from explorer import zoo
    from explorer.graph import trace

    with torch.device("meta"):
        model = zoo.build("resnet18")
    return trace(model, (1, 3, 64, 64))


def test_grad_cam_targets_default_to_the_last_stage_and_take_a_clicked_layer():
    from explorer.inference.cam_targets import cam_target, cam_targets, default_cam_target

    g = resnet18_graph()
    assert default_cam_target(g).label == "layer4 (stage, 512×2×2)"
    labels = [t.node for t in cam_targets(g)]
    assert labels[0] == "conv1" and "layer1.0.conv1" in labels
    assert labels.index("layer3.1.conv2") < labels.index("layer3") < labels.index("layer4.0.conv1")
    assert cam_target(g, "layer1.0.add") is None  # a function: nothing to hook
    assert cam_target(g, "fc") is None and cam_target(g, "avgpool") is None  # no map left
    relu = cam_target(g, "layer4.1.relu:1")
    assert (relu.module, relu.call) == ("layer4.1.relu", 1)
    assert cam_target(g, "layer4.1.relu").call == 0
    assert cam_target(g, "layer2.1").module == "layer2.1"  # a folded block


def test_grad_cam_looks_at_the_call_asked_for():
    import torch

    from explorer import zoo
    from explorer.inference.predictions import grad_cam

    torch.manual_seed(0)
    model = zoo.build("resnet18", zero_init_last=False)
    x = torch.randn(1, 3, 96, 96)
    last, _ = grad_cam(model, x, "layer4.1.relu", 3)
    stage, _ = grad_cam(model, x, "layer4", 3)
    first, _ = grad_cam(model, x, "layer4.1.relu", 3, call=0)
    assert np.allclose(last, stage, atol=1e-6)  # the block's last ReLU is the stage's output
    assert not np.allclose(first, last, atol=1e-3)


def test_cam_overlay_fades_what_the_model_did_not_see_and_outlines_the_crop():
    from explorer.inference.render import cam_overlay, colour_bar, heat_overlay

    img = flat(100, 80)
    heat = np.zeros((80, 100), np.float32)
    heat[30:50, 40:60] = 1
    box = (10.0, 0.0, 90.0, 80.0)
    out = np.asarray(cam_overlay(img, heat, box))
    plain = np.asarray(heat_overlay(img, heat))
    assert (out[40, 50] == plain[40, 50]).all()  # inside the crop: the heat map
    assert tuple(out[40, 3]) != tuple(plain[40, 3])  # outside it: faded
    assert tuple(out[40, 10]) == (255, 255, 255) or tuple(out[41, 10]) == (255, 255, 255)
    bar = np.asarray(colour_bar(50, 4))
    assert bar.shape == (4, 50, 3) and tuple(bar[0, 0]) == (68, 1, 84)
    assert tuple(bar[0, -1]) == (253, 231, 37)


def test_a_damaged_picture_says_what_is_wrong_with_it(tmp_path):
    """Was: a PNG cut after its header read "not an image (no PNG ... header)", a cut
    JPEG "cannot decode the image (image file is truncated (238 bytes not processed))"."""
    import pytest

    from explorer.inference.imaging import ImageError, load_image

    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (200, 200, 3), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(rng.integers(0, 255, (200, 200, 3), np.uint8)).save(tmp_path / "a.jpg",
                                                                       quality=95)
    data = (tmp_path / "a.png").read_bytes()
    (tmp_path / "head.png").write_bytes(data[:40])
    with pytest.raises(ImageError, match=r"head.png: a damaged PNG file \(its header"):
        load_image(tmp_path / "head.png")
    for name in ("a.png", "a.jpg"):
        data = (tmp_path / name).read_bytes()
        (tmp_path / f"cut_{name}").write_bytes(data[:len(data) * 2 // 3])
        with pytest.raises(ImageError, match="the file is truncated: it ends before all"):
            load_image(tmp_path / f"cut_{name}")
    (tmp_path / "notes.png").write_text("hello")
    with pytest.raises(ImageError, match="notes.png: not an image"):
        load_image(tmp_path / "notes.png")


def test_networks_trained_on_whole_small_images_see_the_whole_image():
    """CIFAR networks and LeNet-5 were trained on whole images stretched to their input
    (the training data's own pipeline); the app gave them the ImageNet recipe's centre
    87.5 % (was: a 32×32 CIFAR image resized to 37×37 and cropped back to 32×32)."""
    import torch

    from explorer import zoo
    from explorer.inference.runner import default_fit
    from explorer.training.augment import InputFit

    for name in ("resnet20_cifar", "resnet56_cifar_plain", "preact_resnet110_cifar"):
        info = zoo.get_info(name)
        assert default_fit(info) == "resize"
        rng = np.random.default_rng(0)
        pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        x, g = preprocess(Image.fromarray(pixels), (3, 32, 32), info.mean, info.std,
                          default_fit(info))
        assert not g.cropped()
        trained = InputFit(3, (32, 32), info.mean, info.std)(
            torch.from_numpy(pixels).permute(2, 0, 1)[None])
        assert (x - trained).abs().max() < 1e-4  # the app's input is the training input
    assert default_fit(zoo.get_info("lenet5")) == "resize"
    assert default_fit(zoo.get_info("resnet50")) == "crop"  # ImageNet's evaluation recipe
    assert default_fit(zoo.get_info("unet")) == "resize"


def test_a_stretch_says_both_scales_and_no_resize_says_so():
    """Was: "451×300 px image → 480×360 input: the whole image, scaled ×1.06" (down it was
    ×1.20: the shape changed, unsaid) and "stretched 128×128 → 128×128" for no change."""
    _, g = preprocess(flat(451, 300), (3, 360, 480), (0.5,) * 3, (0.5,) * 3, "resize")
    assert g.text() == ("451×300 px image → 480×360 input: the whole image, stretched ×1.06 "
                        "across and ×1.20 down")
    _, g = preprocess(flat(128, 128), (3, 128, 128), (0.5,) * 3, (0.5,) * 3, "resize")
    assert g.text() == "128×128 px image → 128×128 input: the whole image, as it is"
    assert g.steps[0] == "kept at 128×128 (no resize)"
    _, g = preprocess(flat(512, 512), (3, 32, 32), (0.5,) * 3, (0.5,) * 3, "resize")
    assert g.text().endswith("the whole image, scaled ×0.06")
