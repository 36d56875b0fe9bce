"""Memory measured in a fresh child process, from its own start.

``ru_maxrss`` is a process-wide high-water mark: in the test process, any earlier test
that used more memory would hide what the code under test does. A child that runs
``setup`` (imports, a warm-up) and then ``measured`` reports how far its peak rose
during ``measured`` alone."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

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


def run_cli_limited(argv: list[str], cwd: Path, env: dict[str, str] | None = None,
                    timeout: float = 120, cap_bytes: int = CAP_BYTES):
    """``explorer ARGV`` from this checkout (not whichever one is installed) in a child
    process with an address-space cap and a time limit."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap_bytes, cap_bytes))

    full_env = {**os.environ, "EXPLORER_PROBE_SECONDS": "20", "PYTHONPATH": str(REPO),
                **(env or {})}
    return subprocess.run([sys.executable, "-m", "explorer", *argv], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=cap)
