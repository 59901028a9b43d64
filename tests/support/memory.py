"""Peak memory of a command run in its own process: for tests that bound what hostile input may cost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(r.stderr, file=sys.stderr)"
)


def run_measured(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, float, str]:
    """(exit code, peak RSS in MB, stderr) of `args` run as a child of a probe process."""
    res = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    code, peak_kb = map(int, res.stdout.split())
    return code, peak_kb / 1024, res.stderr
