"""The pages' Jinja2 templates (admin/templates, autoescaped) and their static files."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

ADMIN = Path(__file__).resolve().parents[2] / "admin"
STATIC = ADMIN / "static"

templates = Environment(
    loader=FileSystemLoader(ADMIN / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
