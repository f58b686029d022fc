"""The revcycle command line (``revcycle --help``)."""

from revcycle.cli.main import main

__all__ = ["main"]
