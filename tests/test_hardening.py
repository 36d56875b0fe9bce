"""The core's guards against bad input, one at a time, in-process: image sizing from the
header, per-tensor weight checks, out-of-memory typing, strict JSON, atomic writes, the
user-model probe's API."""

from __future__ import annotations

import builtins
import io
import json
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from explorer import zoo
from explorer.cli import _opens_in_window
from explorer.export.files import DestinationError, check_destination, write_atomic
from explorer.graph import trace
from explorer.inference import imaging, runner
from explorer.inference.imaging import ImageError, decode_bytes, load_image, reduction, to_rgb
from explorer.inference.limits import MEMORY_BUDGET, WORK_PIXELS
from explorer.inference.predictions import json_safe, output_problem, prediction_json
from explorer.inference.runner import OutOfMemory, out_of_memory, run_image
from explorer.inference.weights import WeightsError, load_weights, read_state_dict
from explorer.probe import probe
from explorer.usermodel import UserModelError, load_user_model
from explorer.zoo.registry import Option, ZooError


# ------------------------------------------------------------------------------ images
def test_working_size_is_decided_before_decoding():
    assert reduction((4096, 4096)) == 1 and reduction((4097, 4096)) == 2
    assert reduction((8944, 8944)) == 3  # 80 M pixels -> 2981 x 2981
    assert decode_bytes("I;16", 8944, 8944) == 2 * 8944 * 8944 < MEMORY_BUDGET
    assert decode_bytes("P", 1000, 1000, factor=2) == 5 * 10**6  # converted before reduce


def test_a_large_jpeg_is_decoded_at_a_reduced_scale(tmp_path):
    Image.new("RGB", (2000, 1600), (30, 120, 200)).save(tmp_path / "big.jpg", quality=90)
    img = load_image(tmp_path / "big.jpg", work_pixels=250_000)
    assert img.size == (500, 400)  # the decoder's 1/4 scale: no full-size intermediate
    assert abs(img.getpixel((250, 200))[2] - 200) <= 3


def test_a_16_bit_image_is_averaged_down_in_strips(tmp_path):
    arr = np.zeros((600, 800), np.uint16)
    arr[:, 400:] = 65535
    Image.fromarray(arr).save(tmp_path / "16.png")
    img = load_image(tmp_path / "16.png", work_pixels=120_000)
    assert img.size == (400, 300) and img.mode == "RGB"
    assert img.getpixel((10, 10)) == (0, 0, 0) and img.getpixel((390, 290)) == (255, 255, 255)


def test_every_mode_reduces(tmp_path):
    for mode in ("1", "L", "P", "RGBA", "LA", "CMYK", "I", "F", "I;16"):
        img = to_rgb(Image.new(mode, (300, 200)), work_pixels=10_000)
        assert img.mode == "RGB" and img.width * img.height <= 10_000, mode


def test_float_images_with_nan_or_inf_are_refused(tmp_path):
    for bad in (float("nan"), float("inf"), -float("inf")):
        arr = np.zeros((16, 16), np.float32)
        arr[5, 5] = bad
        Image.fromarray(arr, "F").save(tmp_path / "f.tif")
        with pytest.raises(ImageError, match=r"f\.tif: the float image holds NaN or infinite"):
            load_image(tmp_path / "f.tif")


def test_strips_are_refused_with_the_reason(tmp_path):
    Image.new("L", (1010, 10)).save(tmp_path / "strip.png")
    with pytest.raises(ImageError, match=r"1010x10 image \(101:1\) is refused: beyond 100:1"):
        load_image(tmp_path / "strip.png")
    Image.new("L", (1000, 10)).save(tmp_path / "ok.png")
    assert load_image(tmp_path / "ok.png").size == (1000, 10)


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    row = zlib.compress(b"\0" * (1 + 3 * width))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
            + chunk(b"IDAT", row) + chunk(b"IEND", b""))


def test_headers_that_claim_more_than_the_file_holds_are_refused(tmp_path):
    (tmp_path / "one_row.png").write_bytes(_png_claiming(3000, 3000))
    with pytest.raises(ImageError, match="claims 3000x3000 .*truncated or forged"):
        load_image(tmp_path / "one_row.png")
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 0, 0)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    struct.pack_into(">HH", data, data.find(b"\xff\xc0") + 5, 6000, 6000)
    (tmp_path / "forged.jpg").write_bytes(bytes(data))
    with pytest.raises(ImageError, match="claims 6000x6000"):
        load_image(tmp_path / "forged.jpg")


def test_unreadable_and_folder_images(tmp_path, monkeypatch):
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageError, match="dir.png: is a folder"):
        load_image(tmp_path / "dir.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "locked.png")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(imaging.Image, "open", denied)
    with pytest.raises(ImageError, match="locked.png: permission denied"):
        load_image(tmp_path / "locked.png")


# ------------------------------------------------------------------------------ weights
@pytest.fixture(scope="module")
def lenet_state():
    return zoo.build("lenet5").state_dict()


@pytest.mark.parametrize("make,reason", [
    (lambda t: torch.empty_like(t, device="meta"), "a meta tensor that holds no data"),
    (lambda t: t.to_sparse(), "a sparse_coo tensor; weights must be dense"),
    (lambda t: t.to(torch.complex64), "complex64, not floating-point"),
    (lambda t: t.to(torch.int64), "int64, not floating-point"),
    (lambda t: t.bool(), "bool, not floating-point"),
])
def test_each_unusable_tensor_is_named(tmp_path, lenet_state, make, reason):
    key = "features.0.weight"
    torch.save({**lenet_state, key: make(lenet_state[key])}, tmp_path / "w.pth")
    model = zoo.build("lenet5")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(WeightsError, match=f"{key}: {reason}") as err:
        load_weights(model, tmp_path / "w.pth")
    assert err.value.report.wrong_kind[0][0] == key
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


def test_nan_weights_load_with_a_warning(tmp_path, lenet_state):
    key = list(lenet_state)[-1]  # the last layer's bias
    torch.save({**lenet_state, key: lenet_state[key] / 0}, tmp_path / "nan.pth")
    report = load_weights(zoo.build("lenet5"), tmp_path / "nan.pth")
    assert report.ok and report.nonfinite == [key]
    assert f"hold NaN or infinite values ({key})" in report.warning
    torch.save(lenet_state, tmp_path / "ok.pth")
    assert load_weights(zoo.build("lenet5"), tmp_path / "ok.pth").warning is None


def test_files_that_are_not_weights_say_so(tmp_path, monkeypatch):
    (tmp_path / "h.pth").write_text("hello")
    with pytest.raises(WeightsError, match="h.pth: not a PyTorch weights file"):
        read_state_dict(tmp_path / "h.pth")
    (tmp_path / "junk.pth").write_bytes(b"\x80\x02garbage")
    with pytest.raises(WeightsError, match="junk.pth: (not a PyTorch weights file|refused)"):
        read_state_dict(tmp_path / "junk.pth")
    (tmp_path / "d.pth").mkdir()
    with pytest.raises(WeightsError, match="d.pth: is a folder"):
        read_state_dict(tmp_path / "d.pth")
    real_open = builtins.open

    def denied(path, *args, **kwargs):
        if str(path).endswith("h.pth"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denied)
    with pytest.raises(WeightsError, match="h.pth: permission denied"):
        read_state_dict(tmp_path / "h.pth")


# ------------------------------------------------------------------------------ memory
def test_cpu_out_of_memory_is_typed_with_the_size():
    exc = RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't "
                       "allocate memory: you tried to allocate 16375809024 bytes.")
    oom = out_of_memory(exc, "cpu")
    assert isinstance(oom, torch.OutOfMemoryError) and oom.requested == 16375809024
    assert str(oom) == "out of memory on cpu (15.3 GiB asked for)"
    gpu = out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate "
                                               "2.00 GiB"), "cuda")
    assert gpu.requested == 2 * 2**30 and gpu.device == "cuda"
    assert out_of_memory(RuntimeError("shape mismatch"), "cpu") is None


def test_run_image_reports_cpu_out_of_memory(monkeypatch):
    model = zoo.build("lenet5")
    graph = trace(model, (1, 1, 32, 32))

    def no_memory(*args, **kwargs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to "
                           "allocate 5000000000 bytes")

    monkeypatch.setattr(runner, "capture", no_memory)
    with pytest.raises(OutOfMemory, match=r"out of memory on cpu \(4.7 GiB asked for\)"):
        run_image(model, zoo.get_info("lenet5"), graph, Image.new("RGB", (32, 32)))


def test_an_input_whose_activations_exceed_the_budget_is_refused_before_running():
    model = zoo.build("resnet18")
    graph = trace(model, (1, 3, 8000, 8000))  # meta: free
    with pytest.raises(OutOfMemory, match=r"conv1 would produce 3.8 GiB .* budget") as err:
        run_image(model, zoo.get_info("resnet18"), graph, Image.new("RGB", (32, 32)))
    assert err.value.requested > MEMORY_BUDGET


# ------------------------------------------------------------------------------ outputs
def test_prediction_json_is_strict():
    text = prediction_json({"top_k": [{"prob": float("nan")}, {"prob": float("inf")}],
                            "ok": 0.5})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(c)) == {
        "top_k": [{"prob": None}, {"prob": None}], "ok": 0.5}
    assert json_safe((1.0, [float("-inf")])) == [1.0, [None]]


@pytest.mark.parametrize("output,problem", [
    (None, "returned None"), ({"out": "text"}, "dict whose 'out' is str"),
    (torch.tensor(1.0), r"shape \(\)"), (torch.zeros(3), r"shape \(3,\)"),
    ((), "an empty tuple"), (torch.zeros(1, 10), None), ({"out": torch.zeros(1, 2, 4, 4)}, None),
])
def test_output_problems_are_named(output, problem):
    found = output_problem(output)
    assert (found is None) if problem is None else __import__("re").search(problem, found)


def test_writes_are_whole_or_nothing(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def half(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_atomic(target, half)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    with pytest.raises(DestinationError, match="is a folder"):
        check_destination(tmp_path)
    with pytest.raises(DestinationError, match="does not exist"):
        check_destination(tmp_path / "missing" / "x.png")


# ------------------------------------------------------------------------------ options, CLI
def test_options_refuse_overflowing_and_non_finite_values():
    opt = Option("width_mult", float, 1.0, min=0.1, max=2.0)
    for bad in (10**400, "1e400", float("nan"), "-inf"):
        with pytest.raises(ZooError):
            opt.validate("m", bad)
    assert opt.validate("m", "0.5") == 0.5


def test_a_positional_is_a_file_only_with_a_known_suffix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "list").write_text("x")
    (tmp_path / "m.py").write_text("x")
    (tmp_path / "p.PNG").write_text("x")
    assert not _opens_in_window("list")
    assert _opens_in_window("m.py") and _opens_in_window("m.py:Net")
    assert _opens_in_window("p.PNG") and not _opens_in_window("missing.png")


# ------------------------------------------------------------------------------ the probe
GOOD = ("from torch import nn\nclass Net(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.fc = nn.Linear(4, 3)\n"
        "    def forward(self, x):\n        return self.fc(x.mean((2, 3)).repeat(1, 2)[:, :4])\n")


def test_a_probe_reports_what_it_found(tmp_path):
    path = tmp_path / "good.py"
    path.write_text(GOOD)
    result = probe(str(path), (1, 3, 32, 32))
    assert result.name == "Net" and result.candidates == ("Net",)
    assert result.forward_error is None and result.input_shape == (1, 3, 32, 32)
    assert isinstance(load_user_model(str(path)), torch.nn.Module)


def test_the_probe_can_be_cancelled_and_in_process_exit_is_caught(tmp_path):
    path = tmp_path / "exits.py"
    path.write_text("import sys\nsys.exit(3)\n")
    with pytest.raises(UserModelError, match="exits.py: cancelled"):
        probe(str(path), cancelled=lambda: True)
    with pytest.raises(UserModelError, match=r"exits.py:2: the file calls sys.exit\(3\)"):
        load_user_model(str(path))


def test_work_pixels_constant_is_what_the_app_needs():
    assert WORK_PIXELS >= 1024 * 1024  # overlays stay sharp on a full-HD screen
