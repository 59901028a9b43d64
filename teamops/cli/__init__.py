"""The command line: one module per noun, wired together in app.py."""
