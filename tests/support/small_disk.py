"""A real full disk for the tests: a small tmpfs in a private mount namespace, not a fake one."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest


def run_on_small_disk(
    folder: Path, size_kb: int, command: list[str], keep: Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `command` with `folder` a tmpfs of `size_kb`, then copy what it holds into `keep` (the mount
    goes with the namespace). Skips where unshare or mount namespaces are not available."""
    if subprocess.run(["unshare", "--version"], capture_output=True).returncode != 0:
        pytest.skip("unshare is not available")
    script = (
        f"mount -t tmpfs -o size={size_kb}k tmpfs {shlex.quote(str(folder))} || exit 99\n"
        f"{shlex.join(command)}\n"
        f"code=$?\nmkdir -p {shlex.quote(str(keep))}\n"
        f"cp -r {shlex.quote(str(folder))}/. {shlex.quote(str(keep))}/ 2>/dev/null\nexit $code\n"
    )
    res = subprocess.run(
        ["unshare", "--mount", "--map-root-user", "sh", "-c", script], cwd=cwd, env=env, capture_output=True, text=True
    )
    if res.returncode == 99 or "unshare failed" in res.stderr:
        pytest.skip("no mount namespace here to make a small disk in")
    return res
