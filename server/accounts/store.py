"""Users: create, authenticate, look up."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.accounts.models import ROLES, User
from server.accounts.passwords import DUMMY_HASH, MIN_LENGTH, hash_password, verify_password
from server.errors import InvalidInput, Unauthorized

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


def user_by_email(conn: Connection, email: str) -> User | None:
    row = conn.execute(select(users).where(users.c.email == email.strip().lower())).mappings().first()
    return User.model_validate(dict(row)) if row else None
