#!/usr/bin/env bash
# Build the one-folder bundle: dist/explorer/explorer (CPU torch from the project venv).
# For a CUDA bundle, install a CUDA build of torch into the venv first, e.g.
#   .venv/bin/pip install torch==2.13.0   (from PyTorch's CUDA wheel index, cu12x)
# and run this script again (the bundle then carries CUDA's libraries, several GB).
set -euo pipefail
cd "$(dirname "$0")/../.."
make setup >/dev/null
.venv/bin/pip install -q "pyinstaller>=6.10"
.venv/bin/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller \
  packaging/pyinstaller/explorer.spec
du -sh dist/explorer
QT_QPA_PLATFORM=offscreen dist/explorer/explorer --self-test
