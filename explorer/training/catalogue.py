"""The data sets that are fetched from their publishers, as data: each file's URL, size
and full sha256, the licence and how to cite. Nothing is downloaded until a person asks;
then the files go through the same careful client as published weights
(explorer.inference.download: temporary file, checksum, rename, progress, cancel, one
line when offline) into ``$TORCH_HOME/datasets/NAME/``, beside torch.hub's cache.
``$EXPLORER_DATASETS_BASE_URL`` points at a mirror (or a test server) holding the files.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ..inference.download import Progress, fetch

BASE_URL_ENV = "EXPLORER_DATASETS_BASE_URL"


def datasets_dir() -> Path:
    """$TORCH_HOME/datasets (by default ~/.cache/torch/datasets), beside torch.hub's."""
    import torch.hub

    return Path(torch.hub.get_dir()).parent / "datasets"


@dataclass(frozen=True)
class DataFile:
    """One file of a published data set, in the shape the download client takes."""

    dataset: str
    url: str
    sha256: str
    size: int
    base_url_env: str = BASE_URL_ENV

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def sha256_prefix(self) -> str:  # the whole digest: the client checks it as a prefix
        return self.sha256

    def cache_path(self) -> Path:
        return datasets_dir() / self.dataset / self.file_name

    def size_text(self) -> str:
        return f"{self.size / 2**20:.1f} MiB"

    def is_cached(self) -> bool:
        return self.cache_path().is_file()


@dataclass(frozen=True)
class RemoteDataset:
    name: str
    title: str
    files: tuple[DataFile, ...]
    licence: str
    page: str
    citation: str

    def size(self) -> int:
        return sum(f.size for f in self.files)

    def is_cached(self) -> bool:
        return all(f.is_cached() for f in self.files)


_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist/"  # PyTorch's mirror of LeCun's files
CATALOGUE: dict[str, RemoteDataset] = {
    "mnist": RemoteDataset(
        "mnist", "MNIST (60,000 + 10,000 handwritten digits, 28×28)",
        tuple(DataFile("mnist", _MNIST + name, sha, size) for name, sha, size in (
            ("train-images-idx3-ubyte.gz",
             "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9_912_422),
            ("train-labels-idx1-ubyte.gz",
             "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28_881),
            ("t10k-images-idx3-ubyte.gz",
             "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1_648_877),
            ("t10k-labels-idx1-ubyte.gz",
             "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4_542),
        )),
        licence="CC BY-SA 3.0 (Y. LeCun, C. Cortes, C. J. C. Burges)",
        page="http://yann.lecun.com/exdb/mnist/",
        citation="LeCun, Bottou, Bengio, Haffner: Gradient-Based Learning Applied to "
                 "Document Recognition (1998)"),
    "cifar10": RemoteDataset(
        "cifar10", "CIFAR-10 (50,000 + 10,000 colour images, 32×32, 10 classes)",
        (DataFile("cifar10", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                  "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                  170_498_071),),
        licence="no licence stated; the authors ask that the tech report be cited",
        page="https://www.cs.toronto.edu/~kriz/cifar.html",
        citation="Krizhevsky: Learning Multiple Layers of Features from Tiny Images (2009)"),
}


def fetch_dataset(name: str, progress: Progress | None = None,
                  cancel: threading.Event | None = None) -> list[Path]:
    """Every file of ``CATALOGUE[name]``, downloaded first where not cached. Progress counts
    bytes over all the files. Raises explorer.inference.download.DownloadError."""
    remote = CATALOGUE[name]
    total, before, paths = remote.size(), 0, []
    for f in remote.files:
        def one(done: int, _total: int | None, before: int = before) -> None:
            if progress:
                progress(before + done, total)

        paths.append(fetch(f, one, cancel))
        before += f.size
    return paths
