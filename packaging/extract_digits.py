"""Extract the UCI handwritten digits (1,797 images of 8×8, values 0-16, CC BY 4.0) from a
scikit-learn wheel, once, into resources/datasets/digits.csv.gz. scikit-learn is not a
dependency of the explorer: the wheel is only opened as a zip file.

    python -m pip download scikit-learn --no-deps -d /tmp/skl
    python packaging/extract_digits.py /tmp/skl/scikit_learn-*.whl

The file is copied byte for byte (each row: 64 pixel values, then the digit); its sha256
is printed so that resources/datasets/SOURCE.txt can state it.
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

MEMBER = "sklearn/datasets/data/digits.csv.gz"
OUT = Path(__file__).resolve().parents[1] / "resources" / "datasets" / "digits.csv.gz"


def extract(wheel: Path, out: Path = OUT) -> str:
    with zipfile.ZipFile(wheel) as zf:
        data = zf.read(MEMBER)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    digest = extract(Path(sys.argv[1]))
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes), sha256 {digest}")
