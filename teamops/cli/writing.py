"""Files a command writes where the user asked (--out, a CI job summary): a place that cannot be written is exit 3."""

from __future__ import annotations

from pathlib import Path

from teamops.errors import ConfigError


def write_file(path: Path, content: str, *, append: bool = False) -> None:
    """Write (or append) text; a folder missing, no permission or a full disk is one line and exit 3."""
    try:
        with path.open("a" if append else "w", encoding="utf-8") as fh:
            fh.write(content)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}", "nothing else was changed") from None
