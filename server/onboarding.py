"""What a new site starts with: its channels (web widget, mobile SDK) and the three
predefined proactive drafts, created with it in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from server.channels import store as channels
from server.proactive import store as proactive
from server.sites.models import Site


def open_site(conn: Connection, **fields: Any) -> Site:
    """A new site (``fields`` as for ``sites.store.create_site``) ready to use."""
    site = channels.open_site(conn, **fields)
    proactive.seed_drafts(conn, site)
    return site
