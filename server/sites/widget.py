"""A site's widget settings: how the launcher looks and how the widget behaves.

Stored in ``sites.settings["widget"]``; every key has a default, so a site
created before a key existed still gets a complete set. ``public_settings``
is what a browser may see (the config endpoint and ``welcome``); the
identity secret is never part of it.
"""

from __future__ import annotations

import re
from typing import Any

from server.errors import InvalidInput
from server.sites.models import Site

LOCALES = ("en", "pt", "es")

DEFAULTS: dict[str, Any] = {
    "color": "#2563eb",  # launcher and header colour
    "position": "right",  # right | left (bottom corner)
    "label": "",  # text beside the launcher icon; empty shows the icon alone
    "locale": "auto",  # auto (the browser's language) | en | pt | es
    "welcome": "",  # a line at the top of an empty conversation
    "sound": True,  # a short tone for agent messages while the panel is closed
    "consent_required": False,  # write nothing to browser storage before open or Parley('consent')
    "require_identity": False,  # identify() must carry an HMAC of the user id
}

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def settings_of(site: Site) -> dict[str, Any]:
    stored = site.settings.get("widget") or {}
    return {**DEFAULTS, **{k: v for k, v in stored.items() if k in DEFAULTS}}


def public_settings(site: Site) -> dict[str, Any]:
    shown = {k: v for k, v in settings_of(site).items() if k != "require_identity"}
    return shown | {"name": site.name} | colours_on(shown["color"])


def colours_on(color: str) -> dict[str, str]:
    """What to draw on and around the site's colour, for WCAG AA whatever colour a site
    picks: ``on``, the text on it (white where that reaches 4.5:1, else near-black);
    ``text``, the colour as text on white (itself where it reaches 4.5:1, else
    near-black); ``ring``, the focus ring (itself where it reaches 3:1, else near-black)."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    white = 1.05 / (0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2] + 0.05)
    readable = white >= 4.5
    return {
        "on": "#ffffff" if readable else INK,
        "text": color if readable else INK,
        "ring": color if white >= 3 else INK,
    }


INK = "#111827"  # the design system's --ink


def validate(changes: Any) -> dict[str, Any]:
    """Checked changes, or InvalidInput naming the first bad field."""
    if not isinstance(changes, dict):
        raise InvalidInput("send a JSON object of settings", code="invalid_setting")
    checked: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in DEFAULTS:
            raise InvalidInput(f"unknown setting {key!r}", code="invalid_setting", field=key)
        problem = _problem(key, value)
        if problem:
            raise InvalidInput(f"{key}: {problem}", code="invalid_setting", field=key)
        checked[key] = value.strip() if isinstance(value, str) else value
    return checked


def _problem(key: str, value: Any) -> str | None:
    if isinstance(DEFAULTS[key], bool):
        return None if isinstance(value, bool) else "must be true or false"
    if not isinstance(value, str):
        return "must be a string"
    if key == "color" and not _COLOR.match(value):
        return "must be a colour like #2563eb"
    if key == "position" and value not in ("right", "left"):
        return "must be 'right' or 'left'"
    if key == "locale" and value not in ("auto", *LOCALES):
        return f"must be 'auto' or one of {', '.join(LOCALES)}"
    if key == "label" and len(value) > 40:
        return "at most 40 characters"
    if key == "welcome" and len(value) > 280:
        return "at most 280 characters"
    return None
