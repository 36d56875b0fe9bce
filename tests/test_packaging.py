"""Packaging: the wheel installs and runs on its own; desktop files validate."""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "packaging" / "linux"
APP_ID = "io.github.architecture_explorer.ArchitectureExplorer"


def test_every_package_is_listed_for_the_wheel():
    """pyproject names its packages one by one: a new sub-package left off the list would
    be missing from the wheel (and the installed app would fail on its first import)."""
    block = re.search(r"^packages = \[(.*?)\]", (ROOT / "pyproject.toml").read_text(),
                      re.M | re.S)  # (tomllib is 3.11+; the project supports 3.10)
    listed = set(re.findall(r'"([\w.]+)"', block.group(1)))
    found = {".".join(init.parent.relative_to(ROOT).parts)
             for init in (ROOT / "explorer").rglob("__init__.py")}
    assert found - listed == set()


@pytest.mark.slow
def test_wheel_and_sdist_build_install_and_run(tmp_path):
    pytest.importorskip("build")
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--wheel", "--sdist",
                    "--outdir", str(out), str(ROOT)], check=True, capture_output=True)
    wheel = next(out.glob("*.whl"))
    assert next(out.glob("*.tar.gz"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "explorer/resources/lessons.json" in names
    assert "explorer/resources/labels/imagenet1k.txt" in names
    assert "explorer/resources/icons/architecture-explorer.svg" in names
    assert not any("screenshots" in n for n in names)  # the README's pictures stay out
    # A fresh environment with only the wheel; its dependencies (torch, Qt...) come from
    # this test's environment through a .pth file, so nothing is downloaded.
    # This environment's pip installs into it (pip --python): a pip of its own would
    # take ensurepip's 4 to 15 s, and install the wheel the same way.
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True)
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()"
                              "['purelib'])"], check=True, capture_output=True,
                             text=True).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    Path(purelib, "outer-deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    explorer = env_dir / "bin" / "explorer"
    run_env = {**os.environ, "PYTHONPATH": ""}
    listing = subprocess.run([str(explorer), "list"], check=True, capture_output=True,
                             text=True, cwd=tmp_path, env=run_env).stdout
    assert "resnet50" in listing and "segnet" in listing
    summary = subprocess.run([str(explorer), "summary", "resnet18"], check=True,
                             capture_output=True, text=True, cwd=tmp_path, env=run_env).stdout
    assert "11,689,512" in summary and "1.814G" in summary
    where = subprocess.run([str(py), "-c", "import explorer.assets as a; print(a.RESOURCES)"],
                           check=True, capture_output=True, text=True, cwd=tmp_path,
                           env=run_env).stdout.strip()
    assert where.startswith(str(env_dir))  # resources come from the installed package
    lesson = subprocess.run([str(explorer), "lessons", "bottleneck"], capture_output=True,
                            text=True, cwd=tmp_path, env=run_env)
    assert lesson.returncode == 0 and "holds" in lesson.stdout


@pytest.mark.skipif(not shutil.which("desktop-file-validate"),
                    reason="desktop-file-utils not installed")
def test_desktop_file_validates():
    result = subprocess.run(["desktop-file-validate", str(LINUX / f"{APP_ID}.desktop")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower()


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstream not installed")
def test_appstream_metainfo_validates():
    result = subprocess.run(["appstreamcli", "validate", "--no-net",
                             str(LINUX / f"{APP_ID}.metainfo.xml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_icons_at_standard_sizes():
    from PIL import Image

    icons = ROOT / "resources" / "icons"
    assert (icons / "architecture-explorer.svg").read_text().startswith("<svg")
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        with Image.open(icons / f"architecture-explorer-{size}.png") as im:
            assert im.size == (size, size)


def test_self_test_of_the_app():
    result = subprocess.run([sys.executable, "-m", "explorer", "--self-test"],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test passed" in result.stdout
