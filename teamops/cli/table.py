"""Text tables laid out in one pass: 10,000 rows print in milliseconds, and no cell is read as markup."""

from __future__ import annotations

HEADER_SEP, RULE_SEP, BODY_SEP = " ┃ ", "━╇━", " │ "
MIN_SHRUNK = 10  # a text column squeezed to fit the terminal keeps at least this many cells


def cells(text: str) -> int:
    """Terminal cells a string takes: wide characters (CJK, emoji) count twice."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def fit(text: str, width: int) -> str:
    """The text cut to `width` cells, ending in an ellipsis when something was cut."""
    if cells(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = cells(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - cells(text))
    return gap + text if right else text + gap


def render(
    headers: list[str],
    numeric: list[bool],
    rows: list[list[str]],
    *,
    title: str | None = None,
    max_width: int | None = None,
    bold: bool = False,
) -> str:
    """Title, a header row, a rule and the rows; text columns shrink (with …) to fit max_width."""
    widths = [cells(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            n = cells(cell)
            if n > widths[i]:
                widths[i] = n
    if max_width:
        total = sum(widths) + len(BODY_SEP) * (len(widths) - 1)
        while total > max_width:
            text_cols = [i for i in range(len(widths)) if not numeric[i] and widths[i] > MIN_SHRUNK]
            if not text_cols:
                break
            widest = max(text_cols, key=lambda i: widths[i])
            cut = min(total - max_width, widths[widest] - MIN_SHRUNK)
            widths[widest] -= cut
            total -= cut
    header = HEADER_SEP.join(pad(fit(h, w), w, num) for h, w, num in zip(headers, widths, numeric, strict=True))
    header = header.rstrip()
    lines = []
    if title:
        lines.append(title)
    lines.append(f"\x1b[1m{header}\x1b[0m" if bold else header)
    lines.append(RULE_SEP.join("━" * w for w in widths))
    for row in rows:
        lines.append(BODY_SEP.join(pad(fit(c, w), w, num) for c, w, num in zip(row, widths, numeric, strict=True)))
    return "\n".join(line.rstrip() for line in lines) + "\n"
