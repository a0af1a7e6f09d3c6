"""Every envelope the bus carries, defined once: its type, how it is built, who gets it.

Publishers build envelopes only with the functions here; the hub routes them
with the two tables at the end (who receives each type, and what it does for
each receiver), so a new envelope is one entry in each, not a new branch in
the hub.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

Envelope = dict[str, Any]


class Kind(StrEnum):
    EVENTS = "events"  # a conversation's new events: its summary and the frames, in sequence
    TYPING = "typing"  # someone is typing: ephemeral, never stored or replayed
    USER_REVOKED = "user.revoked"  # a user disabled or given a new password: close their sockets
    USER_ACCESS = "user.access"  # a user's grants changed: reload them
    SESSION_ENDED = "session.ended"  # one sign-in ended (sign-out): close its sockets
    PROACTIVE_CHANGED = "proactive.changed"  # a site's proactive messages changed: reload its rules
    SITE_CHANGED = "site.changed"  # a site's settings changed: drop the cached copy
    BUS_RESYNC = "bus.resync"  # the bus came back after an outage: sockets catch up from the database


def events(conversation: dict[str, Any], frames: list[dict[str, Any]]) -> Envelope:
    return {"t": Kind.EVENTS.value, "conversation": conversation, "frames": frames}


def typing(conversation: dict[str, Any], frame: dict[str, Any]) -> Envelope:
    """``conversation`` needs id, visitor_id, site_id and channel_id (who may be told)."""
    return {"t": Kind.TYPING.value, "conversation": conversation, "frame": frame}


def user_revoked(user_id: str) -> Envelope:
    return {"t": Kind.USER_REVOKED.value, "user_id": user_id}


def user_access(user_id: str) -> Envelope:
    return {"t": Kind.USER_ACCESS.value, "user_id": user_id}


def session_ended(session_id: str) -> Envelope:
    return {"t": Kind.SESSION_ENDED.value, "session_id": session_id}


def proactive_changed(site_id: str) -> Envelope:
    return {"t": Kind.PROACTIVE_CHANGED.value, "site_id": site_id}


def site_changed(key: str) -> Envelope:
    return {"t": Kind.SITE_CHANGED.value, "key": key}


def bus_resync() -> Envelope:
    return {"t": Kind.BUS_RESYNC.value}


# Who receives each type (Hub.recipients implements each audience once):
#   conversation  the visitor's sockets and the agents who may see the channel
#   typing        the same, less the one typing (and visitors do not hear visitors)
#   user          the named user's agent sockets
#   session       the agent sockets of the named sign-in
#   everyone      every socket of the process
#   process       no socket: a hook of the process itself
AUDIENCE: dict[Kind, str] = {
    Kind.EVENTS: "conversation",
    Kind.TYPING: "typing",
    Kind.USER_REVOKED: "user",
    Kind.USER_ACCESS: "user",
    Kind.SESSION_ENDED: "session",
    Kind.PROACTIVE_CHANGED: "process",
    Kind.SITE_CHANGED: "process",
    Kind.BUS_RESYNC: "everyone",
}

# What the hub does for each receiver: deliver (queue it, in order), revoke
# (close with 4401), reload_access, or resync (queue it; agents also recheck
# their session, since a revocation published while the bus was down may be lost).
ACTION: dict[Kind, str] = {
    Kind.EVENTS: "deliver",
    Kind.TYPING: "deliver",
    Kind.USER_REVOKED: "revoke",
    Kind.USER_ACCESS: "reload_access",
    Kind.SESSION_ENDED: "revoke",
    Kind.PROACTIVE_CHANGED: "hook",
    Kind.SITE_CHANGED: "hook",
    Kind.BUS_RESYNC: "resync",
}
