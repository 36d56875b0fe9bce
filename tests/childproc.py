"""Child processes for tests: memory measured in a fresh one, from its own start; and
commands run under an address-space cap and a time limit (one process per fuzz case,
several cases at once).

``ru_maxrss`` is a process-wide high-water mark: in the test process, any earlier test
that used more memory would hide what the code under test does. A child that runs
``setup`` (imports, a warm-up) and then ``measured`` reports how far its peak rose
during ``measured`` alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import warm_python

_TEMPLATE = """
import json, resource, sys
{setup}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = None
{measured}
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({{"grown_mb": grown, "result": result}}))
"""


def peak_growth(setup: str, measured: str, timeout: float = 300) -> tuple[float, object]:
    """(MB the child's peak RSS rose while running ``measured``, its ``result``)."""
    code = _TEMPLATE.format(setup=textwrap.dedent(setup), measured=textwrap.dedent(measured))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["grown_mb"], report["result"]


REPO = Path(__file__).resolve().parents[1]
CAP_BYTES = 4 << 30  # address space of a CLI child (torch maps about 1 GB by itself)


def run_limited(args: list[str], cwd: Path, env: dict[str, str] | None = None,
                timeout: float = 120, cap_bytes: int = CAP_BYTES):
    """``python ARGS`` (``-m MODULE ...`` or ``-c CODE ...``) with this checkout's explorer
    (not whichever one is installed) in a child process with an address-space cap and a
    time limit; the child is forked from a warm interpreter that imported torch already
    (warm_python.py says what stays as in a fresh one)."""
    full_env = {**os.environ, "EXPLORER_PROBE_SECONDS": "20", "PYTHONPATH": str(REPO),
                **(env or {})}
    return warm_python.run(args, cwd, full_env, timeout, cap_bytes)


def run_cli_limited(argv: list[str], cwd: Path, env: dict[str, str] | None = None,
                    timeout: float = 120, cap_bytes: int = CAP_BYTES):
    """``explorer ARGV`` the same way."""
    return run_limited(["-m", "explorer", *argv], cwd, env, timeout, cap_bytes)


def run_all(jobs: dict[str, Callable[[], object]]) -> dict[str, object]:
    """Each job (one child process) run a few at a time; its result, or the exception
    it raised (a timeout), by name."""
    from concurrent.futures import ThreadPoolExecutor

    def guarded(job):
        try:
            return job()
        except Exception as exc:  # noqa: BLE001  (reported by the case's own test)
            return exc

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
        futures = {name: pool.submit(guarded, job) for name, job in jobs.items()}
        return {name: f.result() for name, f in futures.items()}
