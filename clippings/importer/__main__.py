"""`python -m clippings.importer SRC...`: the same as `python build.py import SRC...`."""

import argparse
import sys

from clippings.importer.cli import run
from clippings.importer.options import configure_parser

parser = argparse.ArgumentParser(prog="python -m clippings.importer")
configure_parser(parser)
sys.exit(run(parser.parse_args()))
