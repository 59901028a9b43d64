"""The docs promise what the code does: the CLI reference is generated, the README commands are CI's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

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


def tour_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## A five-minute tour", 1)[1].split("```sh\n", 1)[1].split("\n```", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("cd ")]


def test_every_line_of_the_readme_tour_works_offline_as_written(make_repo, tmp_path):
    """Each line, as a shell runs it, in a clone with a release tag, no token, no key, no network."""
    repo = make_repo()
    for i in range(12):
        author = ("Alice", "alice@acme.io") if i % 2 else ("Bob", "bob@acme.io")
        repo.commit(
            f"change {i}", {f"src/f{i}.py": "x\n" * (i + 1)}, author=author, date=f"2026-11-{i + 1:02d}T10:00:00+00:00"
        )
    repo.git("tag", "v1.2.0")
    bin_dir = Path(sys.executable).parent
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TEAMOPS_", "GITHUB_", "OPENAI_", "GIT_")) and k != "COLUMNS"
    }
    proxy = "http://127.0.0.1:9"  # nothing listens: any attempt to reach the network fails at once
    env |= {"PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", "HOME": str(tmp_path), "HTTPS_PROXY": proxy}
    env |= {"HTTP_PROXY": proxy, "TEAMOPS_NOW": "2026-11-20T10:00:00Z", "GIT_CONFIG_NOSYSTEM": "1"}
    assert len(tour_lines()) >= 15
    for line in tour_lines():
        res = subprocess.run(["bash", "-c", line], cwd=repo.path, env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, (line, res.stdout[-2000:], res.stderr[-2000:])
        assert "Traceback" not in res.stderr or "--debug" in line, (line, res.stderr)


def test_reports_never_import_the_site_or_the_cli():
    """The page model lives beside the reports that fill it: `render/` and `cli/` import `reports/`, never back."""
    import re

    found = []
    for path in sorted((ROOT / "teamops" / "reports").glob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.match(r"\s*(from|import) teamops\.(render|cli)\b", line):
                found.append(f"{path.name}: {line.strip()}")
    assert found == []


def kind_names_in(path: Path, kind: str) -> list[str]:
    """Where code branches on a kind or holds its literal (a string that is the kind's name, a SQL literal such
    as 'github', a key such as "github:..."), or imports its package. Identifiers and prose (docstrings, help
    texts, comments, a label such as "GitHub") that mention a service by name do not count."""
    import io
    import tokenize

    text = path.read_text(encoding="utf-8")
    quoted = re.compile(rf"""(^|['"]){kind}(['":]|$)""")
    found = [
        tok.string[:60]
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type == tokenize.STRING and quoted.search(tok.string.lstrip("rbfuRBFU").strip("\"'"))
    ]
    found += re.findall(rf"^\s*(?:from|import)\s+teamops\.sources\.{kind}\b.*$", text, re.M)
    return found


def test_no_core_module_names_a_kind_that_lives_in_its_own_folder():
    """A kind that is one folder under teamops/sources/ is reached through the registry only: nothing outside
    its folder holds its name as a value or imports it (the migrations are history, and stay as written)."""
    from teamops.sources import every_kind

    package = ROOT / "teamops"
    folders = [k.kind for k in every_kind() if (package / "sources" / k.kind / "__init__.py").exists()]
    assert {"git", "github", "gitlab", "clickup"} <= set(folders)
    # the git program's name, in the one module that runs it for every clone of any kind, is not the kind's
    program = {"git": "integrations/git_local.py"}
    for kind in folders:
        named = {
            str(path.relative_to(package)): hits
            for path in sorted(package.rglob("*.py"))
            if f"sources/{kind}/" not in path.as_posix()
            and path.name != "migrations.py"
            and str(path.relative_to(package)) != program.get(kind)
            and (hits := kind_names_in(path, kind))
        }
        assert named == {}, f"{kind} is named outside its folder"


def test_sync_helpers_never_import_the_sources():
    """Kinds call the shared sync helpers (sync/), and the runner that walks the kinds lives in sources/: the
    imports between the two run one way."""
    back = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "teamops" / "sync").rglob("*.py"))
        if re.search(r"^\s*(?:from|import)\s+teamops\.sources\b", path.read_text(encoding="utf-8"), re.M)
    ]
    assert back == []
