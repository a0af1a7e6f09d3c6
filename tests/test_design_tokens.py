"""The widget keeps its own small sheet but the design system's tokens: every token it
declares exists in admin/static/parley.css with the same value."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = re.compile(r"(--[a-z0-9-]+):\s*([^;}]+)")


def _tokens(text: str) -> dict[str, str]:
    return {name: value.strip().lower() for name, value in TOKEN.findall(text)}


def test_the_widget_declares_the_design_systems_tokens_with_their_values() -> None:
    css = (ROOT / "admin/static/parley.css").read_text()
    root = _tokens(css[css.index(":root {") : css.index("}", css.index(":root {"))])
    panel = (ROOT / "widget/panel.js").read_text()
    host = re.search(r'":host\{(.*?)\}"', panel.replace('" +\n    "', ""), re.S)
    assert host is not None, "panel.js declares its tokens in one :host rule"
    widget = _tokens(host.group(1))
    assert len(widget) >= 8
    assert {name: root.get(name) for name in widget} == widget


def test_the_widget_uses_no_grey_outside_the_tokens() -> None:
    panel = (ROOT / "widget/panel.js").read_text()
    sheet = panel[panel.index("X.css(") : panel.index("  );", panel.index("X.css("))]
    rules = sheet.split(":host{", 1)[1].split("}", 1)[1]
    greys = {"#111827", "#374151", "#4b5563", "#6b7280", "#e5e7eb", "#d1d5db", "#f9fafb", "#f8fafc"}
    assert [g for g in greys if g in rules.lower()] == []
