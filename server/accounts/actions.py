"""Account actions: commit, then publish, so every process closes revoked sockets."""

from __future__ import annotations

from typing import Any

from server.accounts import api_tokens, store
from server.accounts.models import ApiToken, User
from server.accounts.passwords import verify_password
from server.accounts.store import set_password, user_by_id
from server.db import Database
from server.errors import InvalidInput, Unauthorized
from server.ids import utcnow
from server.realtime import envelopes
from server.realtime.bus import Bus
from server.realtime.outbox import Done, commit


async def change_password(db: Database, bus: Bus, user: User, current: str, new: str) -> User:
    """Every session of the user, on every process, ends; the caller gets a new one."""
    if not verify_password(user.password_hash, current):
        raise Unauthorized("the current password is wrong", code="bad_credentials", close_code=None)
    if new == current:
        raise InvalidInput("the new password is the same as the current one", code="password_unchanged")

    def change(conn: Any) -> Done[None]:
        set_password(conn, user.id, new)
        return Done(None, [envelopes.user_revoked(user.id)])

    await commit(db, bus, change)
    updated = await db.read(user_by_id, user.id)
    assert updated is not None
    return updated


async def update_user(db: Database, bus: Bus, user_id: str, changes: dict[str, Any]) -> User:
    """An admin's change to a user. Disabling or a new password closes every one of
    their sockets within the bus's latency; other changes reload what their sockets see."""
    return await commit(db, bus, lambda c: store.update_user(c, user_id, changes))


async def end_session(db: Database, bus: Bus, session_id: str) -> None:
    """Sign out: the session's cookie stops working and its sockets close, on every process."""
    await commit(db, bus, lambda c: store.end_session(c, session_id))


async def add_user(
    db: Database, *, email: str, name: str, password: str, role: str, grants: dict[str, Any]
) -> User:
    """A new team member and their grants (sections, channels), in one transaction:
    a refused grant leaves no half-made user behind (a retry used to find email_taken)."""

    def add(conn: Any) -> User:
        user = store.create_user(conn, email=email, name=name, password=password, role=role)
        if grants:
            user = store.update_user(conn, user.id, grants).value  # no socket to tell yet
        return user

    return await db.write(add)


async def open_session(db: Database, user_id: str, max_age_s: int) -> str:
    """A new session for a user who just signed in; returns its id."""
    return await db.write(store.start_session, user_id, max_age_s)


async def sign_in_failed(db: Database, email: str, ip: str, window_s: int) -> None:
    """Count a failed sign-in, for the throttle every process shares."""
    await db.write(lambda c: store.record_failure(c, email, ip, window_s))


async def sign_in_succeeded(db: Database, email: str) -> None:
    await db.write(lambda c: store.clear_failures(c, email))


# API tokens (server/accounts/api_tokens.py): nothing to publish, since every request
# made with a token reads its row.


async def create_token(
    db: Database, site_id: str, name: Any, scopes: Any, by: str | None
) -> tuple[ApiToken, str]:
    """A new token and its secret, which nothing else will ever show again."""
    return await db.write(lambda c: api_tokens.create(c, site_id, name, scopes, by))


async def revoke_token(db: Database, token_id: str) -> ApiToken:
    return await db.write(api_tokens.revoke, token_id)


async def use_token(db: Database, secret: str, per_minute: int) -> api_tokens.Used:
    """One request made with the token, counted (and refused when revoked or past its limit)."""
    return await db.write(api_tokens.use, secret, utcnow(), per_minute)
