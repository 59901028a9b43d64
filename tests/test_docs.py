"""The docs promise what the code does: the CLI reference is generated, the README commands are CI's."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support.paths import ROOT


def test_cli_reference_is_current():
    res = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cli_reference.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.S)
    test_command = next(b for b in blocks if "pytest" in b and "\n" not in b)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    install_and_run = next(b for b in blocks if "teamops job run nightly" in b and "\n" not in b)
    assert "teamops kpi" in install_and_run and "requirements.lock" in install_and_run


def test_lock_file_pins_everything_without_registry_urls():
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pins = [line for line in lock.splitlines() if line and not line.startswith((" ", "#"))]
    assert pins and all("==" in p for p in pins)
    assert "://" not in lock and "--index-url" not in lock
    litellm = next(p for p in pins if p.startswith("litellm=="))
    assert litellm not in ("litellm==1.82.7", "litellm==1.82.8")
