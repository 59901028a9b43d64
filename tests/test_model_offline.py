"""The model path offline: a dry run needs no key, no network and no litellm import; litellm never
fetches its remote price list unless asked; a key set to nothing is a missing key."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from subprocess import DEVNULL

import pytest

from tests.conftest import lines

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def synced(make_repo, cli, tmp_path):
    repo = make_repo()
    for i in range(30):
        repo.commit(f"change {i}", {f"src/m{i}.py": lines(20 + i)}, date=f"2026-11-{(i % 27) + 1:02d}T10:00:00+00:00")
    db = tmp_path / "t.db"
    assert cli("--db", str(db), "sync-commits", "--repo", str(repo.path)).exit_code == 0
    return db


class Listener:
    """A loopback port set as every proxy: it counts whoever tries to reach the network through it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.hits = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """teamops in a fresh process, then whether it imported litellm (the last line)."""
    code = (
        "import sys; from teamops.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\nelse:\n    code = 0\n"
        "print('litellm' in sys.modules, file=sys.stderr); sys.exit(code)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def offline_env(proxy: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_KEY")) and "LITELLM" not in k}
    env.update(HTTP_PROXY=proxy, HTTPS_PROXY=proxy, ALL_PROXY=proxy, http_proxy=proxy, https_proxy=proxy)
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    return env


def test_a_dry_run_needs_no_key_no_network_and_no_litellm(synced, tmp_path):
    proxy = Listener()
    try:
        res = run(
            ["--db", str(synced), "analyze", "--model", MODEL, "--dry-run", "-f", "json"],
            offline_env(proxy.url),
            tmp_path,
        )
    finally:
        proxy.close()
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip().endswith("False")  # litellm was never imported
    assert proxy.hits == 0
    data = json.loads(res.stdout)
    assert data["commits"] == 30 and data["tokens_in"] > 0
    # The prices are litellm's own, read from the file it ships.
    from teamops.integrations.llm import litellm_module

    info = litellm_module().model_cost["gpt-4o-mini"]
    worst = sum(
        r["tokens_in"] * info["input_cost_per_token"] + r["max_tokens_out"] * info["output_cost_per_token"]
        for r in data["rows"]
    )
    assert data["est_cost_usd"] == pytest.approx(worst, abs=1e-5)


def test_litellm_is_imported_offline_unless_the_user_opts_in(tmp_path):
    probe = "from teamops.integrations.llm import litellm_module; litellm_module()"
    proxy = Listener()
    try:
        env = offline_env(proxy.url)
        subprocess.run([sys.executable, "-c", probe], env=env, check=True, timeout=120, capture_output=True)
        assert proxy.hits == 0
        # The user's own choice stands: with the remote list asked for, litellm does try to fetch it
        # (the listener sees it; the rest of the import is not waited for).
        env["LITELLM_LOCAL_MODEL_COST_MAP"] = "False"
        child = subprocess.Popen([sys.executable, "-c", probe], env=env, stdout=DEVNULL, stderr=DEVNULL)
        deadline = time.monotonic() + 120
        while proxy.hits == 0 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        child.kill()
        child.wait()
        assert proxy.hits >= 1
    finally:
        proxy.close()


@pytest.mark.parametrize("value", ["", "   "])
def test_a_key_set_to_nothing_is_missing(cli, synced, value):
    res = cli("--db", str(synced), "analyze", "--model", MODEL, "--limit", "1", env={"OPENAI_API_KEY": value})
    assert res.exit_code == 3 and "$OPENAI_API_KEY is set but empty" in res.stderr, res.output
    named = cli(
        "--db",
        str(synced),
        "analyze",
        "--model",
        MODEL,
        "--limit",
        "1",
        env={"MY_KEY": value, "TEAMOPS_AI_API_KEY_ENV": "MY_KEY"},
    )
    assert named.exit_code == 3 and "$MY_KEY ([ai] api_key_env) is set but empty" in named.stderr, named.output
