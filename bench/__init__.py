"""Benchmarks: ``python -m bench NAME [--json]``. They print figures; tests assert behaviour."""
