"""Images through the model: loading, preprocessing, capture, predictions, weights."""

from __future__ import annotations

import io
import json
import pickle
import re
import struct
import zlib

import numpy as np
import pytest
import torch
from childproc import peak_growth
from PIL import Image

from explorer import zoo
from explorer.cli import main
from explorer.graph import trace
from explorer.inference.capture import capture
from explorer.inference.devices import available_devices, choose_device
from explorer.inference.imaging import ImageError, load_image
from explorer.inference.predictions import (
    class_shares,
    grad_cam,
    load_labels,
    overlay,
    segmentation_mask,
    voc_palette,
)
from explorer.inference.preprocess import preprocess, unprocess
from explorer.inference.render import channel_grid, channel_stats, heat_overlay, top_channels
from explorer.inference.runner import run_image
from explorer.inference.weights import WeightsError, load_weights

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def gradient(w=64, h=48) -> Image.Image:
    x = np.linspace(0, 255, w, dtype=np.uint8)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h, dtype=np.uint8)[:, None].repeat(w, 1)
    return Image.fromarray(np.stack([x, y, 255 - x], -1), "RGB")


# ------------------------------------------------------------------------ image loading
@pytest.mark.parametrize("fmt,ext", [("PNG", "png"), ("JPEG", "jpg"), ("BMP", "bmp"),
                                     ("TIFF", "tif"), ("WEBP", "webp"), ("GIF", "gif")])
def test_formats_load_as_rgb(tmp_path, fmt, ext):
    path = tmp_path / f"img.{ext}"
    gradient().save(path, fmt)
    img = load_image(path)
    assert img.mode == "RGB" and img.size == (64, 48)


def test_gif_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    assert load_image(tmp_path / "a.gif").getpixel((4, 4))[0] > 200


def test_colour_modes(tmp_path):
    Image.new("L", (4, 4), 200).save(tmp_path / "l.png")
    assert load_image(tmp_path / "l.png").getpixel((0, 0)) == (200, 200, 200)
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))  # fully transparent red: white
    rgba.save(tmp_path / "rgba.png")
    assert load_image(tmp_path / "rgba.png").getpixel((0, 0)) == (255, 255, 255)
    pal = Image.new("P", (4, 4), 1)
    pal.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    pal.save(tmp_path / "p.png")
    assert load_image(tmp_path / "p.png").getpixel((0, 0)) == (0, 255, 0)
    Image.new("CMYK", (4, 4), (0, 255, 255, 0)).save(tmp_path / "c.jpg")
    r, g, b = load_image(tmp_path / "c.jpg").getpixel((0, 0))
    assert r > 200 and g < 60 and b < 60
    sixteen = Image.fromarray(np.full((4, 4), 65535 // 2, dtype=np.uint16))
    sixteen.save(tmp_path / "16.png")
    assert abs(load_image(tmp_path / "16.png").getpixel((0, 0))[0] - 128) <= 1
    Image.new("1", (4, 4), 1).save(tmp_path / "bw.png")
    assert load_image(tmp_path / "bw.png").getpixel((0, 0)) == (255, 255, 255)


def test_exif_orientation_is_honoured(tmp_path):
    img = Image.new("RGB", (40, 20), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 20, 20))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display turns it 90° clockwise
    img.save(tmp_path / "rot.jpg", exif=exif, quality=95)
    loaded = load_image(tmp_path / "rot.jpg")
    assert loaded.size == (20, 40)
    assert loaded.getpixel((10, 5))[0] > 200  # the red half is now on top


def test_bad_files_raise_clear_errors(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="empty.png: the file is empty"):
        load_image(tmp_path / "empty.png")
    (tmp_path / "text.jpg").write_text("this is not an image")
    with pytest.raises(ImageError, match="text.jpg: not an image"):
        load_image(tmp_path / "text.jpg")
    buf = io.BytesIO()
    gradient(256, 256).save(buf, "PNG")
    (tmp_path / "cut.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageError, match="cut.png: the file is truncated"):
        load_image(tmp_path / "cut.png")
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "missing.png")


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header and carries one tiny zlib stream."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def test_huge_header_is_refused_without_allocating(tmp_path):
    (tmp_path / "bomb.png").write_bytes(png_header(40000, 40000))
    grown_mb, message = peak_growth(
        setup="from explorer.inference.imaging import ImageError, load_image",
        measured=f"""
            try:
                load_image({str(tmp_path / "bomb.png")!r})
            except ImageError as exc:
                result = str(exc)
        """)
    assert message is not None and re.search(r"bomb.png: .*(40000x40000|1600000000 pixels)",
                                             message)
    assert grown_mb < 100, f"the child's peak rose {grown_mb:.0f} MB"  # decoding: 4.8 GB


# ------------------------------------------------------------------------ preprocessing
def test_preprocess_and_exact_inverse():
    img = gradient(300, 200)
    x, geom = preprocess(img, (3, 224, 224), (0.5, 0.4, 0.3), (0.2, 0.25, 0.3), "resize")
    assert x.shape == (1, 3, 224, 224)
    back = unprocess(x, (0.5, 0.4, 0.3), (0.2, 0.25, 0.3))
    assert np.array_equal(np.asarray(back), np.asarray(img.resize((224, 224), Image.BILINEAR)))
    x1, _ = preprocess(img, (1, 32, 32), (0.1307,), (0.3081,), "crop")  # LeNet: gray 32x32
    assert x1.shape == (1, 1, 32, 32)
    _, g = preprocess(img, (3, 100, 100), (0,) * 3, (1,) * 3, "pad")
    assert g.content == (0, 16, 100, 83)  # 300x200 fitted to 100x67, centred


# ------------------------------------------------------------------------ capture
def test_capture_of_a_layer_equals_running_up_to_it_by_hand():
    model = zoo.build("resnet18")
    x = torch.randn(1, 3, 64, 64)
    graph = trace(model, x.shape)
    with torch.inference_mode():
        cap = capture(model, x, graph, ["layer1.0.conv2", "layer1.0.add", "layer1.0.bn2",
                                        "layer1.0.relu", "maxpool"])
        stem = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        block = model.layer1[0]
        a = block.relu(block.bn1(block.conv1(stem)))
        bn2 = block.bn2(block.conv2(a))
        assert torch.allclose(cap.get("maxpool"), stem)
        assert torch.allclose(cap.get("layer1.0.relu"), a)
        assert torch.allclose(cap.get("layer1.0.conv2"), block.conv2(a))
        # bn2's output is overwritten in place by `out += identity`; the capture is not
        assert torch.allclose(cap.get("layer1.0.bn2"), bn2)
        # the residual sum, before the in-place ReLU that follows it
        assert torch.allclose(cap.get("layer1.0.add"), bn2 + stem, atol=1e-6)


def test_capture_all_nodes_and_functional_fallback():
    model = zoo.build("se_resnet50")  # SE's mul feeds an add: needs the function mode
    x = torch.randn(1, 3, 64, 64)
    graph = trace(model, x.shape)
    with torch.inference_mode():
        cap = capture(model, x, graph, "all")
        plain = model(x)
    assert torch.allclose(cap.output, plain)
    mul = graph.nodes("mul")[0]
    assert cap.get(mul).shape == graph.node(mul)["out_shape"]
    assert len(cap.tensors) == sum(1 for _, d in graph.nx.nodes(data=True)
                                   if d["kind"] not in ("input", "output"))


def test_memory_budget_recomputes_on_demand():
    model = zoo.build("resnet18")
    x = torch.randn(1, 3, 64, 64)
    graph = trace(model, x.shape)
    with torch.inference_mode():
        full = capture(model, x, graph, "all", budget_mb=None)
        small = capture(model, x, graph, "all", budget_mb=0.25)
        assert small.over_budget and small.nbytes <= 0.25 * 2**20
        node = small.over_budget[-1]
        assert torch.allclose(small.get(node), full.get(node))


# ------------------------------------------------------------------------ predictions
def test_labels_and_palette():
    assert load_labels("imagenet1k", 1000)[207] == "golden retriever"
    assert load_labels("voc21", 21)[15] == "person"
    assert load_labels(None, 3) == ("class 0", "class 1", "class 2")
    pal = voc_palette()
    assert pal[:5].tolist() == [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0],
                                [0, 0, 128]]
    assert len({tuple(c) for c in pal[:21]}) == 21


def test_segmentation_mask_has_the_images_size_and_overlay():
    info = zoo.get_info("unet")
    model = zoo.build("unet", base_width=4)
    graph = trace(model, (1, 1, 188, 188))
    img = gradient(120, 90)
    result = run_image(model, info, graph, img, layers=["enc1"])
    assert result.capture.get("enc1").shape == (1, 4, 184, 184)  # the block's output
    assert result.mask.shape == (90, 120)  # the image's H x W, from a 4x4 output
    blended = overlay(img, result.mask, 0.6)
    assert blended.size == img.size and blended.mode == "RGB"
    assert abs(sum(c["share"] for c in result.classes) - 1.0) < 1e-9
    mask = np.zeros((4, 6), np.int32)
    mask[:, 3:] = 15
    assert class_shares(mask, load_labels("voc21", 21))[1] == {"index": 15, "label": "person",
                                                             "share": 0.5}
    with pytest.raises(ValueError, match="opacity"):
        overlay(img, result.mask, 1.5)


def test_segmentation_through_preprocessing_geometry():
    logits = torch.zeros(1, 3, 8, 8)
    logits[0, 2, :, 4:] = 5  # right half is class 2
    _, geom = preprocess(gradient(64, 32), (3, 8, 8), (0,) * 3, (1,) * 3, "resize")
    mask = segmentation_mask(logits, geom)
    assert mask.shape == (32, 64)
    assert (mask[:, 40:] == 2).all() and (mask[:, :24] == 0).all()


def test_feature_map_helpers():
    act = torch.zeros(1, 6, 4, 4)
    act[0, 3] = 5.0
    act[0, 1, 0, 0] = 1.0
    grid, cols = channel_grid(act)
    assert cols == 3 and grid.shape == (2 * 5 - 1, 3 * 5 - 1)
    assert np.isnan(grid[4, 0]) and np.nanmax(grid) == 1.0
    assert top_channels(act, 2).tolist() == [3, 1]
    stats = channel_stats(act)
    assert stats["sparsity"][0] == 1.0 and stats["max"][3] == 5.0
    img = heat_overlay(gradient(32, 32), act[0, 3].numpy())
    assert img.size == (32, 32)


def test_grad_cam():
    model = zoo.build("resnet18")
    x = torch.randn(1, 3, 64, 64)
    cam, cls = grad_cam(model, x, "layer4")
    assert cam.shape == (64, 64) and 0 <= cam.min() and cam.max() <= 1
    assert cls == int(model(x).argmax())
    assert all(p.grad is None for p in model.parameters())


# ------------------------------------------------------------------------ weights
def test_state_dict_round_trip(tmp_path):
    a, b = zoo.build("resnet18", num_classes=7), zoo.build("resnet18", num_classes=7)
    torch.save({"state_dict": {f"module.{k}": v for k, v in a.state_dict().items()}},
               tmp_path / "w.pth")
    report = load_weights(b, tmp_path / "w.pth")
    assert report.ok and report.loaded == len(a.state_dict())
    x = torch.randn(1, 3, 64, 64)
    assert torch.equal(a(x), b(x))
    from safetensors.torch import save_file

    c = zoo.build("resnet18", num_classes=7)
    save_file(a.state_dict(), str(tmp_path / "w.safetensors"))
    load_weights(c, tmp_path / "w.safetensors")
    assert torch.equal(a(x), c(x))


def test_weights_for_another_architecture_are_refused(tmp_path):
    torch.save(zoo.build("resnet18").state_dict(), tmp_path / "r18.pth")
    model = zoo.build("resnet34")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(WeightsError) as err:
        load_weights(model, tmp_path / "r18.pth")
    report = err.value.report
    assert report.missing and "layer1.2.conv1.weight" in report.missing
    assert "does not fit this model" in str(err.value) and "missing from the file" in str(err.value)
    torch.save(zoo.build("resnet18", num_classes=10).state_dict(), tmp_path / "r18c.pth")
    with pytest.raises(WeightsError, match=r"fc.weight: file \(10, 512\) vs model \(1000, 512\)"):
        load_weights(zoo.build("resnet18"), tmp_path / "r18c.pth")
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))  # unpickling would create the marker file


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_pickle_that_runs_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "ran"
    with open(tmp_path / "evil.pth", "wb") as f:
        pickle.dump({"weight": _Evil(str(marker))}, f)
    torch.save({"x": _Evil(str(marker))}, tmp_path / "evil2.pt")
    assert not marker.exists()
    for name in ("evil.pth", "evil2.pt"):
        with pytest.raises(WeightsError, match="refused"):
            load_weights(zoo.build("lenet5"), tmp_path / name)
    assert not marker.exists()


# ------------------------------------------------------------------------ devices
def test_device_choice():
    assert "cpu" in available_devices()
    assert choose_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device here; available: cpu"):
            choose_device("cuda")


@cuda
def test_cuda_capture_matches_cpu():
    """float32 is IEEE float32 on the GPU too: capture turns TF32 off for its own pass
    (with TF32, ResNet-50's logits differed by 3.7e-4 on an H200; without, 1.7e-6)."""
    from explorer.inference.precision import settings

    model = zoo.build("resnet18").eval()
    x = torch.randn(1, 3, 64, 64)
    graph = trace(model, x.shape)
    before = settings()
    with torch.inference_mode():
        cpu = capture(model, x, graph, ["layer2.0.add", "fc"])
        gpu_model = zoo.build("resnet18").eval()
        gpu_model.load_state_dict(model.state_dict())
        gpu = capture(gpu_model.cuda(), x.cuda(), graph, ["layer2.0.add", "fc"])
    assert gpu.device.type == "cuda" and settings() == before
    for node in ("layer2.0.add", "fc"):
        a, b = cpu.get(node), gpu.get(node)
        assert float((a - b).norm() / a.norm()) <= 1e-4, node


@cuda
def test_cuda_cli_run(tmp_path):
    gradient(80, 60).save(tmp_path / "in.png")
    assert main(["run", "resnet18", str(tmp_path / "in.png"), "--device", "cuda",
                 "-o", str(tmp_path / "out")]) == 0
    assert json.loads((tmp_path / "out" / "prediction.json").read_text())["device"] == "cuda"


# ------------------------------------------------------------------------ CLI
def test_cli_run_classification_and_segmentation(tmp_path, capsys):
    gradient(80, 60).save(tmp_path / "in.png")
    assert main(["run", "resnet18", str(tmp_path / "in.png"), "--layer", "layer1",
                 "layer1.0.add", "--device", "cpu", "-o", str(tmp_path / "cls")]) == 0
    pred = json.loads((tmp_path / "cls" / "prediction.json").read_text())
    assert pred["model"] == "resnet18" and pred["task"] == "classification"
    assert len(pred["top_k"]) == 5 and {"index", "label", "prob"} <= set(pred["top_k"][0])
    assert (tmp_path / "cls" / "features_layer1.png").exists()
    assert (tmp_path / "cls" / "features_layer1.0.add.png").exists()
    assert main(["run", "unet_padded", str(tmp_path / "in.png"), "--option", "base_width=4",
                 "-o", str(tmp_path / "seg")]) == 0
    pred = json.loads((tmp_path / "seg" / "prediction.json").read_text())
    assert {"index", "label", "share"} <= set(pred["classes"][0])
    with Image.open(tmp_path / "seg" / "overlay.png") as im:
        assert im.size == (80, 60)


def test_cli_run_bad_input_is_one_line(tmp_path, capsys):
    (tmp_path / "bad.jpg").write_text("not an image")
    assert main(["run", "resnet18", str(tmp_path / "bad.jpg"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.jpg: not an image" in err and "Traceback" not in err
    torch.save(zoo.build("lenet5").state_dict(), tmp_path / "lenet.pth")
    gradient().save(tmp_path / "ok.png")
    assert main(["run", "resnet18", str(tmp_path / "ok.png"), "--weights",
                 str(tmp_path / "lenet.pth"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lenet.pth does not fit this model" in err
    assert main(["run", "resnet18", str(tmp_path / "ok.png"), "--layer", "layer9",
                 "-o", str(tmp_path / "o")]) == 2
    assert "no layer 'layer9'" in capsys.readouterr().err
