"""Reading data sets from their files into uint8 arrays (N, C, H, W) and int64 labels:
MNIST's IDX files, CIFAR-10's python tarball, the shipped UCI digits, and an image folder
(one sub-folder per class). Every reader checks what it reads and raises DataError with
one line that names the file.

CIFAR-10's batches are pickles. They are read with an unpickler that admits only the few
numpy constructors those files use, after the tarball's sha256 matched the catalogue, so a
file that tries to run code is refused instead of run.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np


class DataError(ValueError):
    """A data set's file is missing, damaged or not what it claims to be."""


# ---- MNIST IDX ------------------------------------------------------------------------------

def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzipped or not) as an array: magic 0x0000 08 NDIM, then big-endian
    uint32 sizes, then unsigned bytes."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"{path}: not a readable gzip file ({exc})") from None
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != 0x08:
        raise DataError(f"{path}: not an IDX file of unsigned bytes")
    ndim = raw[3]
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    body = raw[4 + 4 * ndim:]
    if len(body) != int(np.prod(shape)):
        raise DataError(f"{path}: header says {shape}, body holds {len(body):,} bytes")
    return np.frombuffer(body, np.uint8).reshape(shape)


def read_mnist(files: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """train images, train labels, test images, test labels (the catalogue's order)."""
    tx, ty, vx, vy = (read_idx(p) for p in files)
    for images, labels, path in ((tx, ty, files[0]), (vx, vy, files[2])):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{path}: {images.shape} images for {labels.shape} labels")
    return tx[:, None], ty.astype(np.int64), vx[:, None], vy.astype(np.int64)


# ---- CIFAR-10 python tarball ----------------------------------------------------------------

class _NumpyOnly(pickle.Unpickler):
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray",
                                                           "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"),
               ("_codecs", "encode")}  # how Python 3 writes bytes at protocol 2

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused {module}.{name}")
        return super().find_class(module, name)


def _batch(tar: tarfile.TarFile, member: tarfile.TarInfo, path: Path):
    data = tar.extractfile(member)
    if data is None:
        raise DataError(f"{path}: {member.name} is not a file")
    try:
        d = _NumpyOnly(io.BytesIO(data.read()), encoding="bytes").load()
        x = np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        y = np.asarray(d[b"labels"], dtype=np.int64)
    except (pickle.UnpicklingError, KeyError, ValueError, TypeError, EOFError) as exc:
        raise DataError(f"{path}: {member.name} is not a CIFAR-10 batch ({exc})") from None
    if len(x) != len(y):
        raise DataError(f"{path}: {member.name} has {len(x)} images for {len(y)} labels")
    return x, y


def read_cifar10(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                      tuple[str, ...]]:
    """data_batch_1..5 and test_batch from the tarball (never extracted to disk), and the
    class names from batches.meta."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
            train = [_batch(tar, members[f"data_batch_{i}"], path) for i in range(1, 6)
                     if f"data_batch_{i}" in members]
            if not train or "test_batch" not in members:
                raise DataError(f"{path}: no data_batch_N or test_batch inside")
            test = _batch(tar, members["test_batch"], path)
            names = tuple(f"class {i}" for i in range(10))
            if "batches.meta" in members:
                meta = _NumpyOnly(tar.extractfile(members["batches.meta"]),
                                  encoding="bytes").load()
                names = tuple(n.decode() for n in meta.get(b"label_names", [])) or names
    except (tarfile.TarError, OSError, EOFError, pickle.UnpicklingError) as exc:
        raise DataError(f"{path}: not a readable CIFAR-10 tarball ({exc})") from None
    tx = np.concatenate([b[0] for b in train])
    ty = np.concatenate([b[1] for b in train])
    return tx, ty, test[0], test[1], names


# ---- the shipped UCI digits -----------------------------------------------------------------

def read_digits(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """resources/datasets/digits.csv.gz: 1,797 rows of 64 values 0-16 and the digit.
    Images come back as uint8 0-255 (value × 255 / 16), shape (N, 1, 8, 8)."""
    rows = np.loadtxt(gzip.open(path, "rt"), delimiter=",", dtype=np.int64)
    if rows.ndim != 2 or rows.shape[1] != 65:
        raise DataError(f"{path}: expected 65 columns, found {rows.shape}")
    x = np.round(rows[:, :64].reshape(-1, 1, 8, 8) * (255 / 16)).astype(np.uint8)
    return x, rows[:, 64]


# ---- an image folder ------------------------------------------------------------------------

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def read_folder(root: Path, size: int, channels: int = 3
                ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Every image under ``root/CLASS/``, resized to size×size; classes sorted by name."""
    from PIL import Image

    from ..inference.imaging import ImageError, load_image

    if not root.is_dir():
        raise DataError(f"{root}: not a folder (expected one sub-folder of images per class)")
    classes = tuple(sorted(d.name for d in root.iterdir() if d.is_dir()))
    if len(classes) < 2:
        raise DataError(f"{root}: needs at least two sub-folders, one per class; found "
                        f"{len(classes)}")
    images, labels = [], []
    mode = "L" if channels == 1 else "RGB"
    for index, name in enumerate(classes):
        for f in sorted((root / name).iterdir()):
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                image = load_image(f).convert(mode).resize((size, size), Image.BILINEAR)
            except ImageError as exc:
                raise DataError(str(exc)) from None
            arr = np.asarray(image, dtype=np.uint8)
            images.append(arr[None] if channels == 1 else arr.transpose(2, 0, 1))
            labels.append(index)
    if not images:
        raise DataError(f"{root}: no images in its sub-folders")
    return np.stack(images), np.asarray(labels, dtype=np.int64), classes
