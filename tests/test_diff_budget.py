"""The diff sent to a model fits its budget: produced files dropped, important files first."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from teamops.estimation.diff_budget import approx_tokens, budget_diff


def patch(n: int, tag: str = "x") -> str:
    return "@@ -0,0 +1 @@\n" + "".join(f"+{tag} line {i}\n" for i in range(n))


def test_order_drop_clip_and_list():
    files = [
        ("README.md", patch(10, "doc")),
        ("tests/test_core.py", patch(20, "test")),
        ("src/core.py", patch(30, "src")),
        ("package-lock.json", patch(5000, "lock")),
        ("assets/logo.png", "Binary files /dev/null and b/assets/logo.png differ\n"),
        ("src/huge.py", patch(5000, "huge")),
    ]
    out = budget_diff(files, 1000)
    assert out.dropped == ["package-lock.json", "assets/logo.png"]
    assert out.text.index("--- src/huge.py") < out.text.index("--- src/core.py")  # larger source first
    assert out.clipped == ["src/huge.py"] and "[... clipped ...]" in out.text
    assert "package-lock.json (lockfile, generated, vendored or binary)" in out.text
    assert "lock line" not in out.text
    assert out.tokens <= 1000
    assert out.included.index("src/core.py") < out.included.index("tests/test_core.py")


@settings(max_examples=150, deadline=None)
@given(
    sizes=st.lists(
        st.tuples(
            st.sampled_from(["src/a.py", "docs/b.md", "t/test_c.py", "vendor/d.go", "e.lock"]),
            st.integers(0, 3000),
        ),
        max_size=25,
    ),
    budget=st.integers(200, 8000),
)
def test_never_over_budget(sizes, budget):
    files = [(f"{i}/{name}", patch(n)) for i, (name, n) in enumerate(sizes)]
    out = budget_diff(files, budget)
    assert out.tokens <= budget
    assert approx_tokens(out.text) <= budget + 5
    shown = set(out.included) | set(out.clipped) | set(out.listed) | set(out.dropped)
    assert shown == {f for f, _ in files}
