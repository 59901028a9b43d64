"""Where the checkout's files are, whatever folder a test module sits in."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
TESTS = ROOT / "tests"
FIXTURES = TESTS / "fixtures"
CASSETTES = TESTS / "cassettes"
