"""Lets `python -m teamops` behave exactly like the `teamops` script."""

from teamops.cli.app import main

main()
