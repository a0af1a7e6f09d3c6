"""Users: create, authenticate, look up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.accounts.access import grant_channels
from server.accounts.models import ROLES, SECTIONS, LoginFailure, Session, User
from server.accounts.passwords import DUMMY_HASH, MIN_LENGTH, hash_password, verify_password
from server.channels.models import Channel
from server.errors import InvalidInput, LimitExceeded, NotFound, Unauthorized
from server.ids import utcnow
from server.realtime import envelopes
from server.realtime.outbox import Done

users = User.__table__  # type: ignore[attr-defined]


def create_user(conn: Connection, *, email: str, name: str, password: str, role: str) -> User:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput(f"not an email address: {email!r}", code="invalid_email")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not {role!r}", code="invalid_role")
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"password must be at least {MIN_LENGTH} characters", code="password_too_short")
    user = User(email=email, name=name.strip() or email, role=role, password_hash=hash_password(password))
    try:
        with conn.begin_nested():
            conn.execute(insert(users).values(user.model_dump()))
    except IntegrityError:
        raise InvalidInput(f"a user with email {email!r} exists", code="email_taken") from None
    return user


def user_by_id(conn: Connection, user_id: str) -> User | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    return User.model_validate(dict(row)) if row else None


def authenticate(conn: Connection, email: str, password: str) -> User:
    row = conn.execute(select(users).where(users.c.email == email.strip().lower())).mappings().first()
    if row is None:
        verify_password(DUMMY_HASH, password)
        raise Unauthorized("wrong email or password", code="bad_credentials")
    user = User.model_validate(dict(row))
    if not verify_password(user.password_hash, password):
        raise Unauthorized("wrong email or password", code="bad_credentials")
    if not user.is_active:
        raise Unauthorized("this account is disabled", code="account_disabled")
    return user


def set_password(conn: Connection, user_id: str, password: str) -> None:
    """Change a password; every existing session of the user stops working."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"password must be at least {MIN_LENGTH} characters", code="password_too_short")
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=hash_password(password), session_version=users.c.session_version + 1)
    )


# -- sessions ----------------------------------------------------------------------------

sessions = Session.__table__  # type: ignore[attr-defined]


def start_session(conn: Connection, user_id: str, max_age_s: int) -> str:
    """A new sign-in's id; the user's sessions past the cookie's age are forgotten."""
    conn.execute(
        delete(sessions).where(
            sessions.c.user_id == user_id, sessions.c.created_at < utcnow() - timedelta(seconds=max_age_s)
        )
    )
    session = Session(user_id=user_id)
    conn.execute(insert(sessions).values(session.model_dump()))
    return session.id


def end_session(conn: Connection, session_id: str) -> Done[bool]:
    """Sign out: True if the session was live until now (then its sockets are told)."""
    ended = conn.execute(
        update(sessions)
        .where(sessions.c.id == session_id, sessions.c.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    if not ended.rowcount:
        return Done(False)
    return Done(True, [envelopes.session_ended(session_id)])


def session_user(conn: Connection, user_id: str, session_id: str) -> tuple[User | None, bool]:
    """The session's user, and whether the session is still live (not signed out).

    One query on every signed-in request: the user, joined to their live session if any.
    """
    live = sessions.c.ended_at.is_(None) & (sessions.c.id == session_id)
    row = (
        conn.execute(
            select(users, sessions.c.id.label("live_session"))
            .select_from(users.outerjoin(sessions, (sessions.c.user_id == users.c.id) & live))
            .where(users.c.id == user_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None, False
    fields = {k: v for k, v in row.items() if k != "live_session"}
    return User.model_validate(fields), row["live_session"] is not None


def user_by_email(conn: Connection, email: str) -> User | None:
    row = conn.execute(select(users).where(users.c.email == email.strip().lower())).mappings().first()
    return User.model_validate(dict(row)) if row else None


def list_users(conn: Connection) -> list[User]:
    rows = conn.execute(select(users).order_by(users.c.name)).mappings()
    return [User.model_validate(dict(r)) for r in rows]


# -- sign-in throttle ------------------------------------------------------------------

failures = LoginFailure.__table__  # type: ignore[attr-defined]


def check_throttle(
    conn: Connection, email: str, ip: str, *, per_email: int, per_ip: int, window_s: int
) -> None:
    """Refuse a sign-in while an account or an address has too many recent failures."""
    since = utcnow() - timedelta(seconds=window_s)
    email = email.strip().lower()
    for column, value, limit in ((failures.c.email, email, per_email), (failures.c.ip, ip, per_ip)):
        recent = conn.execute(
            select(failures.c.at)
            .where(column == value, failures.c.at >= since)
            .order_by(failures.c.at.desc())
            .limit(limit)
        ).all()
        if len(recent) >= limit:
            oldest = min(r[0] for r in recent)
            retry = max(1, int((oldest - since).total_seconds()) + 1)
            raise LimitExceeded(
                f"too many failed sign-ins; try again in {retry} seconds",
                code="too_many_attempts",
                retry_after_s=retry,
            )


def record_failure(conn: Connection, email: str, ip: str, window_s: int) -> None:
    now = utcnow()
    conn.execute(insert(failures).values(email=email.strip().lower()[:254], ip=ip[:64], at=now))
    # Keep the table to the window's worth.
    conn.execute(delete(failures).where(failures.c.at < now - timedelta(seconds=2 * window_s)))


def clear_failures(conn: Connection, email: str) -> None:
    conn.execute(delete(failures).where(failures.c.email == email.strip().lower()))


# -- the team, as admins manage it --------------------------------------------------------


def update_user(conn: Connection, user_id: str, changes: dict[str, Any]) -> Done[User]:
    """Apply an admin's changes. Disabling or a new password ends every session of the user
    (``user.revoked``); any other change reloads what their sockets see (``user.access``)."""
    user = user_by_id(conn, user_id)
    if user is None:
        raise NotFound(f"no user {user_id!r}", code="user_not_found")
    allowed = {"name", "role", "sections", "all_channels", "channels", "is_active", "password"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise InvalidInput(
            f"a user has no {unknown[0]!r}; use {', '.join(sorted(allowed))}", code="invalid_input"
        )
    values: dict[str, Any] = {}
    revoke = False
    if "name" in changes:
        name = changes["name"]
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
            raise InvalidInput("name: 1 to 200 characters", code="invalid_input", field="name")
        values["name"] = name.strip()
    if "role" in changes:
        if changes["role"] not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="invalid_role", field="role")
        values["role"] = changes["role"]
    if "sections" in changes:
        sections = changes["sections"]
        if not isinstance(sections, list) or not set(sections) <= set(SECTIONS) or not sections:
            raise InvalidInput(
                f"sections: a non-empty list of {', '.join(SECTIONS)}", code="invalid_input", field="sections"
            )
        values["sections"] = [s for s in SECTIONS if s in sections]
    if "all_channels" in changes:
        if not isinstance(changes["all_channels"], bool):
            raise InvalidInput("all_channels: true or false", code="invalid_input", field="all_channels")
        values["all_channels"] = changes["all_channels"]
    if "is_active" in changes:
        if not isinstance(changes["is_active"], bool):
            raise InvalidInput("is_active: true or false", code="invalid_input", field="is_active")
        values["is_active"] = changes["is_active"]
        revoke = revoke or not changes["is_active"]
    if "password" in changes:
        password = changes["password"]
        if not isinstance(password, str) or len(password) < MIN_LENGTH:
            raise InvalidInput(
                f"password must be at least {MIN_LENGTH} characters",
                code="password_too_short",
                field="password",
            )
        values["password_hash"] = hash_password(password)
        revoke = True
    if revoke:
        values["session_version"] = user.session_version + 1
    if "channels" in changes:
        wanted = changes["channels"]
        if not isinstance(wanted, list) or not all(isinstance(c, str) for c in wanted):
            raise InvalidInput("channels: a list of channel ids", code="invalid_input", field="channels")
        table = Channel.__table__  # type: ignore[attr-defined]
        known = {r[0] for r in conn.execute(select(table.c.id).where(table.c.id.in_(wanted)))}
        missing = [c for c in wanted if c not in known]
        if missing:
            raise InvalidInput(f"no channel {missing[0]!r}", code="channel_not_found", field="channels")
        grant_channels(conn, user_id, wanted)
    if values:
        conn.execute(update(users).where(users.c.id == user_id).values(**values))
    updated = user_by_id(conn, user_id)
    assert updated is not None
    return Done(updated, [(envelopes.user_revoked if revoke else envelopes.user_access)(user_id)])
