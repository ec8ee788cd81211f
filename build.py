#!/usr/bin/env python3
"""Clippings command line: `python build.py [build|check|import|serve] --help`."""

import sys

from clippings.cli import main

if __name__ == "__main__":
    sys.exit(main())
