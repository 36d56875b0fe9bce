"""The app's start-up report, used to time window-to-first-graph: with
EXPLORER_REPORT_STARTUP it prints when the window shows, when the core is loaded and when
the first graph is on screen; with EXPLORER_QUIT_AFTER_LOAD it quits once that graph is
drawn (not before: a run that quit on "core loaded" timed nothing but the import)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_the_app_reports_its_first_graph_and_then_quits(tmp_path):
    config = tmp_path / "config"
    (config / "ArchitectureExplorer").mkdir(parents=True)
    (config / "ArchitectureExplorer" / "explorer.conf").write_text(
        "[General]\nlast_model=resnet18\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(config),
               EXPLORER_REPORT_STARTUP="1", EXPLORER_QUIT_AFTER_LOAD="1")
    done = subprocess.run([sys.executable, "-m", "explorer"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line.split(" at ")[0] for line in done.stdout.splitlines()]
    assert lines == ["window shown", "core loaded", "first graph shown"], done.stdout
    stamps = [float(line.split(" at ")[1].split()[0]) for line in done.stdout.splitlines()]
    assert stamps == sorted(stamps)
