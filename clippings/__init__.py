"""Clippings: turn saved news articles into a browsable, cross-linked static archive."""

__version__ = "0.1.0"
