"""Run wsserver from this checkout, nothing installed: python run.py [PORT] [options]
(see --help). The command line is wsserver.cli's (the installed `wsserver` command's);
the defaults here are static/ and uploads/ next to this file.
"""
import os
import sys

from wsserver.cli import main

if __name__ == "__main__":
    sys.exit(main(home=os.path.dirname(os.path.abspath(__file__))))
