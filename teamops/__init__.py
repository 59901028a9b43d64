"""teamops: what a small team ships and how it works, from one SQLite file."""

__version__ = "0.1.0"
