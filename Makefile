# Two commands do everything on a fresh Debian/Ubuntu machine:
#   make run    set up, then launch the app
#   make test   set up, then run the test suite
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT    := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends

.PHONY: setup system run test test-fast test-gpu gpu-check bench lint clean

setup: system $(STAMP)

# System packages, only when missing: graphviz's dot, python3-venv, the libraries Qt
# needs for a real or offscreen window, and the desktop-file / AppStream validators.
system:
	@need=""; \
	command -v dot >/dev/null 2>&1 || need="$$need graphviz"; \
	command -v desktop-file-validate >/dev/null 2>&1 || need="$$need desktop-file-utils"; \
	command -v appstreamcli >/dev/null 2>&1 || need="$$need appstream"; \
	$(PYTHON) -c "import ensurepip, venv" >/dev/null 2>&1 || need="$$need python3-venv python3-pip"; \
	for lib in libEGL.so.1:libegl1 libGL.so.1:libgl1 libxkbcommon.so.0:libxkbcommon0 \
	           libfontconfig.so.1:libfontconfig1 libdbus-1.so.3:libdbus-1-3 \
	           libxkbcommon-x11.so.0:libxkbcommon-x11-0 libxcb-cursor.so.0:libxcb-cursor0 \
	           libxcb-icccm.so.4:libxcb-icccm4 libxcb-keysyms.so.1:libxcb-keysyms1 \
	           libxcb-image.so.0:libxcb-image0 libxcb-render-util.so.0:libxcb-render-util0 \
	           libxcb-shape.so.0:libxcb-shape0 libxcb-xinerama.so.0:libxcb-xinerama0; do \
	  /sbin/ldconfig -p | grep -q "$${lib%%:*}" || need="$$need $${lib##*:}"; \
	done; \
	if [ -n "$$need" ]; then \
	  echo "installing system packages:$$need"; \
	  $(SUDO) apt-get update -q && $(APT) $$need; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build first: every later requirement is satisfied by it, so nothing pulls CUDA.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: setup
	$(PY) -m explorer

# The suite runs in TEST_WORKERS processes (pytest-xdist; one torch thread each, see
# tests/conftest.py); TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS))

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(XDIST)

test-fast: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not slow" $(XDIST)

# On a machine with an NVIDIA GPU and torch with CUDA, no Qt needed (no setup: that
# would install the CPU build). $(GPU_PYTHON) needs torch, numpy, Pillow, networkx, pytest.
GPU_PYTHON ?= python3
GPU_TESTS  := tests/test_cuda.py tests/test_inference.py tests/test_precision.py \
              tests/test_device_failures.py tests/test_capture_paths.py
test-gpu:
	$(GPU_PYTHON) -m pytest -q -p no:pytest-qt -p no:cacheprovider $(GPU_TESTS)

# Everything a GPU session checks, in one command: the tests, then the report.
gpu-check: test-gpu
	$(GPU_PYTHON) benchmarks/gpu_report.py --models all

bench: setup
	$(PY) -m pip install -q fvcore
	$(PY) benchmarks/graph_bench.py
	$(PY) benchmarks/summary_bench.py
	$(PY) benchmarks/inference_bench.py
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/ui_bench.py
	$(PY) benchmarks/cli_bench.py
	$(PY) benchmarks/image_memory_bench.py

lint: setup
	$(PY) -m ruff check explorer tests benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info
