"""Parley: a self-hosted website chat widget and agent inbox."""

__version__ = "0.1.0"
