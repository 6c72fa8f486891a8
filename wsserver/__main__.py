"""`python -m wsserver`: the command line of wsserver.cli (CPython only)."""
import sys

from wsserver.cli import main

sys.exit(main(prog="python -m wsserver"))
