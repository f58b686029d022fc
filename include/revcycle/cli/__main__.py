"""``python -m revcycle.cli``: the command line without its console script (an installed wheel, a venv)."""

from revcycle.cli.main import main

main()
