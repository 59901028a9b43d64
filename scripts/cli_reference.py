"""Write docs/cli.md from the commands' own --help, so the reference cannot drift from the code.

Run: python scripts/cli_reference.py          (rewrites docs/cli.md)
     python scripts/cli_reference.py --check  (exit 1 when docs/cli.md is stale; the tests do this)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "cli.md"


# Run in one child process with Typer's plain help (TYPER_USE_RICH is read when Typer is imported):
# every command's --help, as the `teamops` script prints it, in one JSON object.
CHILD = """
import json, sys
from typer.testing import CliRunner
from teamops.cli.app import app
runner = CliRunner()
out = {}
for line in sys.stdin.read().splitlines():
    path = json.loads(line)
    res = runner.invoke(app, [*path, "--help"], prog_name="teamops")
    if res.exit_code != 0:
        raise SystemExit(f"teamops {' '.join(path)} --help failed: {res.output}")
    out[" ".join(path)] = res.stdout
print(json.dumps(out))
"""


def help_texts(paths: list[list[str]]) -> dict[str, str]:
    env = {**os.environ, "TYPER_USE_RICH": "0", "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    lines = "\n".join(json.dumps(p) for p in paths)
    out = subprocess.run(
        [sys.executable, "-c", CHILD], input=lines, capture_output=True, text=True, env=env, check=True
    )
    texts: dict[str, str] = json.loads(out.stdout)
    return {k: v.rstrip() + "\n" for k, v in texts.items()}


def commands() -> list[list[str]]:
    """Every command path, found by walking the Click tree behind the Typer app."""
    import typer.main

    from teamops.cli.app import app

    root = typer.main.get_command(app)
    found: list[list[str]] = []

    def walk(cmd: object, path: list[str]) -> None:
        found.append(path)
        subs = getattr(cmd, "commands", None)
        if subs:
            for name in sorted(subs):
                walk(subs[name], [*path, name])

    walk(root, [])
    return found


def render() -> str:
    parts = [
        "# Command reference",
        "",
        "Generated from `teamops ... --help` by `python scripts/cli_reference.py`; do not edit by hand.",
        "",
    ]
    paths = commands()
    texts = help_texts(paths)
    for path in paths:
        title = " ".join(["teamops", *path])
        parts += [f"## `{title}`", "", "```text", texts[" ".join(path)].rstrip(), "```", ""]
    return "\n".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print("docs/cli.md is stale: run python scripts/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
