"""Which page origins may open a visitor socket for a site.

Allowed-domain entries are host names, optionally with a port, optionally with
a leading ``*.`` for subdomains: ``shop.example``, ``*.example.com``,
``localhost:8001``. Scheme is not part of the rule; both http and https match.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList


@functools.cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package: no network


def parse_origin(origin: str) -> tuple[str, int | None] | None:
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.lower(), port


def normalize_domain(entry: str) -> str:
    """An entry as stored: lower case, no scheme, no path, no trailing dot."""
    value = entry.strip().lower()
    if "://" in value:
        value = value.split("://", 1)[1]
    value = value.split("/", 1)[0].rstrip(".")
    if not value or any(c.isspace() for c in value) or value.count("*") > 1:
        raise ValueError(f"not a domain: {entry!r}")
    if "*" in value and not value.startswith("*."):
        raise ValueError(f"a wildcard may only start a domain, as in *.example.com: {entry!r}")
    host = value.removeprefix("*.").rsplit(":", 1)[0] if not value.startswith("[") else value
    if "." in host and _suffixes().is_public(host):
        # "*.com" or "co.uk" would let every site under that suffix embed the widget.
        raise ValueError(
            f"{entry!r} is a public suffix that many unrelated sites share; name your own domain, "
            "as in example.com or *.example.com"
        )
    if value.startswith("*.") and "." not in host:
        raise ValueError(f"{entry!r} covers a whole top-level domain; name your own, as in *.example.com")
    return value


def origin_allowed(origin: str, allowed: list[str]) -> bool:
    parsed = parse_origin(origin)
    if parsed is None:
        return False
    host, port = parsed
    for entry in allowed:
        rule_host, _, rule_port = entry.partition(":")
        if rule_port and (port is None or str(port) != rule_port):
            continue
        if rule_host.startswith("*."):
            suffix = rule_host[1:]
            if host.endswith(suffix) and len(host) > len(suffix):
                return True
        elif host == rule_host:
            return True
    return False
