"""The published-weights catalogue: complete entries, figures that agree with the zoo,
preprocessing applied as published, and timm key tables that map every key."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from PIL import Image

from explorer import zoo
from explorer.assets import resource, sample_images
from explorer.inference.catalogue import (
    FIELDS,
    CatalogueError,
    get_weight_set,
    load_catalogue,
    weight_sets,
)
from explorer.inference.imaging import load_image
from explorer.inference.preprocess import Recipe, preprocess_recipe

SETS = load_catalogue().sets
IDS = [f"{s.model}-{s.name}" for s in SETS]
TORCHVISION_MODELS = {  # the zoo models torchvision publishes weights for (issue 12)
    "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
    "vgg19_bn", "googlenet", "inception_v3", "resnet18", "resnet34", "resnet50", "resnet101",
    "resnet152", "densenet121", "densenet161", "densenet169", "densenet201", "mobilenet_v2",
    "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
    "fcn_resnet50"}


def test_every_torchvision_model_has_sets_and_one_default():
    covered = {s.model for s in SETS if s.publisher == "torchvision"}
    assert covered == TORCHVISION_MODELS
    for model in {s.model for s in SETS}:
        assert sum(s.default for s in weight_sets(model)) == 1, model
        assert weight_sets(model)[0].default


@pytest.mark.parametrize("ws", SETS, ids=IDS)
def test_entry_is_complete(ws):
    info = zoo.get_info(ws.model)  # a registered model
    info.resolve(ws.options)  # options the zoo accepts
    assert ws.url.startswith("https://") and ws.file_name.endswith(".pth")
    assert re.fullmatch(r"[0-9a-f]{8,}", ws.sha256_prefix), ws.file_name
    assert ws.options.get("num_classes", ws.num_classes) == ws.num_classes
    names = resource("labels", f"{ws.labels}.txt").read_text().splitlines()
    assert len(names) == ws.num_classes == (21 if info.task == "segmentation" else 1000)
    r = ws.recipe
    assert r.interpolation in ("bilinear", "bicubic") and len(r.mean) == len(r.std) == 3
    assert r.crop is None or 32 <= r.crop <= r.resize
    assert ws.metrics and all(0 < v <= 100 for v in ws.metrics.values())
    assert ws.dataset and ws.source and ws.training
    assert ws.file_size_mib is None or ws.file_size_mib > ws.num_params * 4 / 2**20 * 0.99
    for pattern, _ in ws.key_rules:
        re.compile(pattern)


def test_catalogue_files_have_every_field():
    import json

    for path in resource("weights").glob("*.json"):
        doc = json.loads(path.read_text())
        assert doc["publisher"] and doc["about"]
        for entry in doc["sets"]:
            assert set(FIELDS) <= set(entry), (path.name, entry.get("model"))


@pytest.mark.parametrize("ws", SETS, ids=IDS)
def test_num_params_agree_with_the_zoo_model(ws):
    with torch.device("meta"):  # shapes only: no memory, no init cost
        model = zoo.build(ws.model, **ws.options)
    counted = sum(p.numel() for name, p in model.named_parameters()
                  if name.split(".")[0] not in ws.uncounted_modules)
    assert counted == ws.num_params


def test_lookup_by_name_and_errors():
    assert get_weight_set("resnet50").name == "IMAGENET1K_V2"  # torchvision's DEFAULT
    assert get_weight_set("resnet50", "imagenet1k_v1").name == "IMAGENET1K_V1"
    assert get_weight_set("fcn_resnet50", "pretrained").labels == "voc21"
    with pytest.raises(CatalogueError, match="IMAGENET1K_V1, IMAGENET1K_V2|IMAGENET1K_V2, "):
        get_weight_set("resnet50", "V3")
    with pytest.raises(CatalogueError, match="no published weights for lenet5"):
        get_weight_set("lenet5")


def test_options_the_weights_need():
    assert get_weight_set("googlenet").options["transform_input"] is True
    assert get_weight_set("inception_v3").options["transform_input"] is True
    assert get_weight_set("inception_v3").recipe.crop == 299
    assert get_weight_set("fcn_resnet50").options["aux_loss"] is True


# ---- preprocessing as published -------------------------------------------------------

def _pattern(w: int, h: int) -> Image.Image:
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([(x * 7 + y * 3) % 256, (x * 2 + y * 11) % 256, (x * y) % 256], -1)
    return Image.fromarray(arr.astype(np.uint8))


def _normalised(arr: np.ndarray, recipe: Recipe) -> np.ndarray:
    return (arr.astype(np.float32) / 255 - np.float32(recipe.mean)) / np.float32(recipe.std)


def test_resnet50_v2_resize_232_crop_224_by_hand():
    ws = get_weight_set("resnet50", "IMAGENET1K_V2")
    assert (ws.recipe.resize, ws.recipe.crop, ws.recipe.interpolation) == (232, 224, "bilinear")
    # shorter side already 232: the resize keeps every pixel, the crop is at
    # top = round((232 - 224) / 2) = 4, left = round((240 - 224) / 2) = 8
    img = _pattern(240, 232)
    x, geom = preprocess_recipe(img, ws.recipe)
    want = _normalised(np.asarray(img)[4:228, 8:232], ws.recipe).transpose(2, 0, 1)
    assert x.shape == (1, 3, 224, 224)
    np.testing.assert_allclose(x[0].numpy(), want, atol=1e-6)
    assert geom.box == (8.0, 4.0, 232.0, 228.0)


def test_resnet50_v2_halving_is_the_bilinear_filter_by_hand():
    """480x464 -> shorter side 232 is exactly half; antialiased bilinear halving weighs
    source pixels 2j-1, 2j, 2j+1, 2j+2 by 1, 3, 3, 1 (/8) along each axis."""
    ws = get_weight_set("resnet50", "IMAGENET1K_V2")
    rng = np.random.default_rng(0)
    src = rng.integers(0, 256, (464, 480, 3)).astype(np.float64)
    x, _ = preprocess_recipe(Image.fromarray(src.astype(np.uint8)), ws.recipe)
    k = np.array([1, 3, 3, 1]) / 8
    # resized 240x232; crop left = round(16 / 2) = 8, top = round(8 / 2) = 4
    for i, j in [(10, 10), (100, 57), (200, 150)]:  # output pixels away from the border
        rows, cols = 2 * (i + 4) + np.arange(-1, 3), 2 * (j + 8) + np.arange(-1, 3)
        value = np.einsum("i,j,ijc->c", k, k, src[np.ix_(rows, cols)])
        want = _normalised(np.round(value), ws.recipe)
        got = x[0, :, i, j].numpy()
        np.testing.assert_allclose(got, want, atol=1.01 / 255 / 0.224)


@pytest.mark.parametrize("ws", SETS, ids=IDS)
def test_each_recipe_resizes_and_crops_as_published(ws):
    r = ws.recipe
    img = _pattern(150, 100)  # landscape: the height becomes r.resize
    long = int(r.resize * 150 / 100)  # torchvision truncates the longer side
    full = np.asarray(img.resize((long, r.resize), {"bilinear": Image.BILINEAR,
                                                     "bicubic": Image.BICUBIC}[r.interpolation]))
    if r.crop is None:
        want = full
    else:
        top, left = round((r.resize - r.crop) / 2), round((long - r.crop) / 2)
        want = full[top:top + r.crop, left:left + r.crop]
    x, _ = preprocess_recipe(img, r)
    np.testing.assert_allclose(x[0].numpy(), _normalised(want, r).transpose(2, 0, 1),
                               atol=1e-5)


def test_segmentation_keeps_the_whole_image_and_bounds_its_size():
    r = get_weight_set("fcn_resnet50").recipe
    assert (r.resize, r.crop) == (520, None)
    assert r.input_size((104, 80)) == (676, 520)
    w, h = r.input_size((20000, 10))  # a panorama is capped, not 1,040,000 px wide
    assert max(w, h) == 2048


def test_extreme_aspect_ratio_builds_no_huge_image():
    x, geom = preprocess_recipe(Image.new("RGB", (20000, 1), (200, 10, 10)),
                                get_weight_set("resnet50").recipe)
    assert x.shape == (1, 3, 224, 224) and geom.input_size == (224, 224)


def test_sample_photos_ship_with_their_licences():
    photos = sample_images()
    assert len(photos) >= 3
    sources = resource("samples", "SOURCES.txt").read_text()
    for path in photos:
        assert path.name in sources
        assert path.stat().st_size <= 100_000
        assert load_image(path).mode == "RGB"
    assert "CC0" in sources and "public domain" in sources


# ---- timm checkpoints: every key of the publisher's layout maps onto ours ----------------
# Key names and shapes transcribed from timm 1.0.31's architecture code (checked once
# against timm.create_model(...).state_dict()): timm/models/resnet.py with SEModule from
# timm/layers/squeeze_excite.py, and timm/models/xception.py.

def _bn(prefix, ch):
    return {f"{prefix}.{k}": (ch,) for k in ("weight", "bias", "running_mean", "running_var")} | {
        f"{prefix}.num_batches_tracked": ()}


def _make_divisible(v, divisor=8):  # timm/layers/helpers.py, min_value=divisor, round_limit=0
    return max(divisor, int(v + divisor / 2) // divisor * divisor)


BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def timm_seresnet50():
    # ResNet(Bottleneck, (3, 4, 6, 3), block_args=dict(attn_layer='se'))
    keys = {"conv1.weight": (64, 3, 7, 7)} | _bn("bn1", 64)
    inplanes = 64
    for li, (planes, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3)), 1):
        out = planes * 4
        for b in range(blocks):
            p = f"layer{li}.{b}"
            keys |= {f"{p}.conv1.weight": (planes, inplanes, 1, 1)} | _bn(f"{p}.bn1", planes)
            keys |= {f"{p}.conv2.weight": (planes, planes, 3, 3)} | _bn(f"{p}.bn2", planes)
            keys |= {f"{p}.conv3.weight": (out, planes, 1, 1)} | _bn(f"{p}.bn3", out)
            rd = _make_divisible(out / 16)  # SEModule rd_ratio=1/16, rd_divisor=8
            keys |= {f"{p}.se.fc1.weight": (rd, out, 1, 1), f"{p}.se.fc1.bias": (rd,),
                     f"{p}.se.fc2.weight": (out, rd, 1, 1), f"{p}.se.fc2.bias": (out,)}
            if b == 0:
                keys |= {f"{p}.downsample.0.weight": (out, inplanes, 1, 1)}
                keys |= _bn(f"{p}.downsample.1", out)
            inplanes = out
    return keys | {"fc.weight": (1000, 2048), "fc.bias": (1000,)}


def _separable(prefix, inc, outc):  # SeparableConv2d: conv1 (depthwise), pointwise
    return {f"{prefix}.conv1.weight": (inc, 1, 3, 3),
            f"{prefix}.pointwise.weight": (outc, inc, 1, 1)}


def timm_legacy_xception():
    # Block(in, out, reps, strides, start_with_relu, grow_first): rep is
    # [ReLU, SeparableConv2d, BatchNorm2d] * reps, the first ReLU dropped when
    # start_with_relu is False; skip/skipbn when the shape changes
    keys = {"conv1.weight": (32, 3, 3, 3)} | _bn("bn1", 32)
    keys |= {"conv2.weight": (64, 32, 3, 3)} | _bn("bn2", 64)
    blocks = [(64, 128, 2, 2, False, True), (128, 256, 2, 2, True, True),
              (256, 728, 2, 2, True, True)] + [(728, 728, 3, 1, True, True)] * 8 + [
              (728, 1024, 2, 2, True, False)]
    for n, (cin, cout, reps, stride, start_with_relu, grow_first) in enumerate(blocks, 1):
        p = f"block{n}"
        if cout != cin or stride != 1:
            keys |= {f"{p}.skip.weight": (cout, cin, 1, 1)} | _bn(f"{p}.skipbn", cout)
        rep = []
        for i in range(reps):
            inc = (cin if i == 0 else cout) if grow_first else cin
            outc = cout if grow_first else (cin if i < reps - 1 else cout)
            rep += [None, ("sep", inc, outc), ("bn", outc)]
        if not start_with_relu:
            rep = rep[1:]
        for i, m in enumerate(rep):
            if m and m[0] == "sep":
                keys |= _separable(f"{p}.rep.{i}", m[1], m[2])
            elif m:
                keys |= _bn(f"{p}.rep.{i}", m[1])
    keys |= _separable("conv3", 1024, 1536) | _bn("bn3", 1536)
    keys |= _separable("conv4", 1536, 2048) | _bn("bn4", 2048)
    return keys | {"fc.weight": (1000, 2048), "fc.bias": (1000,)}


@pytest.mark.parametrize("ws", [s for s in SETS if s.publisher == "timm"],
                         ids=[f"{s.model}-{s.name}" for s in SETS if s.publisher == "timm"])
def test_timm_layout_maps_every_key_with_its_shape(ws):
    layout = {"se_resnet50": timm_seresnet50, "xception": timm_legacy_xception}[ws.model]()
    theirs = {k: torch.empty(shape, device="meta") for k, shape in layout.items()}
    with torch.device("meta"):
        ours = zoo.build(ws.model, **ws.options).state_dict()
    mapped = ws.remap(theirs)
    assert len(mapped) == len(theirs)  # no two keys collapse into one
    assert set(mapped) == set(ours)
    for key, tensor in mapped.items():
        assert tuple(tensor.shape) == tuple(ours[key].shape), key
    params = [s for k, s in layout.items() if not k.endswith(BUFFERS)]
    assert sum(math.prod(s) for s in params) == ws.num_params
