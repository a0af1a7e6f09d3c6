"""All configuration, read once from the environment (then `.env`, then defaults).

A bad value fails loudly at start with the variable's name, never later.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, fields
from pathlib import Path


class ConfigError(Exception):
    pass


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    bus_url: str
    secret_key: str
    # Visitor tokens slide: every hello issues a fresh one.
    visitor_token_max_age_s: int
    session_max_age_s: int
    max_message_chars: int
    max_frame_bytes: int
    # Token buckets: a burst of N, refilled at N per window.
    messages_per_connection: int
    messages_per_ip: int
    frames_per_connection: int
    rate_window_s: float
    connections_per_ip: int
    heartbeat_interval_s: float
    idle_timeout_s: float
    hello_timeout_s: float
    # A resume further behind than this is answered with resync_required.
    replay_limit: int
    history_page_max: int
    visit_timeout_s: int
    # Sign-in throttle: failed attempts allowed per email and per address within the window.
    login_failures_per_email: int
    login_failures_per_ip: int
    login_window_s: int
    # How often each process trims history on sites that cap it.
    history_prune_interval_s: float
    # How long a process holds a background job (a CSV import) without a word before
    # another may take it over: a process that died is replaced after this long.
    job_lease_s: float
    # Requests each API token may make in a minute (429 rate_limited past it).
    api_requests_per_minute: int
    max_attachment_bytes: int
    # TCP-level bounds (server.web.transport): whole request headers within the
    # handshake timeout; a socket that reads nothing for the send timeout while
    # frames wait is cut; after a close frame, the peer answers within the close timeout.
    handshake_timeout_s: float
    send_timeout_s: float
    close_timeout_s: float
    # Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated).
    trusted_proxies: frozenset[str] = frozenset()
    # Validate every frame sent against its model in server/outgoing.py (the test suite's
    # wire-contract check; off in production, where it would only cost time).
    check_frames: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


_DEFAULTS: dict[str, str] = {
    "PARLEY_DATA_DIR": "data",
    "PARLEY_DATABASE_URL": "",
    "PARLEY_BUS_URL": "memory://",
    "PARLEY_SECRET_KEY": "",
    "PARLEY_VISITOR_TOKEN_MAX_AGE_S": str(180 * 24 * 3600),
    "PARLEY_SESSION_MAX_AGE_S": str(14 * 24 * 3600),
    "PARLEY_MAX_MESSAGE_CHARS": "1000",
    "PARLEY_MAX_FRAME_BYTES": "16384",
    "PARLEY_MESSAGES_PER_CONNECTION": "20",
    "PARLEY_MESSAGES_PER_IP": "200",
    "PARLEY_FRAMES_PER_CONNECTION": "120",
    "PARLEY_RATE_WINDOW_S": "10",
    "PARLEY_CONNECTIONS_PER_IP": "200",
    "PARLEY_HEARTBEAT_INTERVAL_S": "25",
    "PARLEY_IDLE_TIMEOUT_S": "75",
    "PARLEY_HELLO_TIMEOUT_S": "10",
    "PARLEY_REPLAY_LIMIT": "500",
    "PARLEY_HISTORY_PAGE_MAX": "200",
    "PARLEY_VISIT_TIMEOUT_S": str(30 * 60),
    "PARLEY_LOGIN_FAILURES_PER_EMAIL": "5",
    "PARLEY_LOGIN_FAILURES_PER_IP": "50",
    "PARLEY_LOGIN_WINDOW_S": "900",
    "PARLEY_HISTORY_PRUNE_INTERVAL_S": "60",
    "PARLEY_JOB_LEASE_S": "15",
    "PARLEY_API_REQUESTS_PER_MINUTE": "600",
    "PARLEY_MAX_ATTACHMENT_BYTES": str(10 * 1024 * 1024),
    "PARLEY_HANDSHAKE_TIMEOUT_S": "10",
    "PARLEY_SEND_TIMEOUT_S": "10",
    "PARLEY_CLOSE_TIMEOUT_S": "5",
    "PARLEY_TRUSTED_PROXIES": "",
    "PARLEY_CHECK_FRAMES": "false",
}


def _positive(name: str, raw: str, cast: type) -> float | int:
    try:
        value = cast(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a valid {cast.__name__}") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r} must be greater than zero")
    return value


def _secret_key(data_dir: Path, given: str) -> str:
    """Use PARLEY_SECRET_KEY, else a key kept in the data folder.

    Tokens and sessions must survive restarts and be shared by every server
    process, so a random per-process key would not do.
    """
    if given:
        if len(given) < 32:
            raise ConfigError("PARLEY_SECRET_KEY must be at least 32 characters")
        return given
    path = data_dir / "secret_key"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key, encoding="utf-8")
    path.chmod(0o600)
    return key


def load_settings(env: dict[str, str] | None = None) -> Settings:
    source = dict(os.environ) if env is None else dict(env)
    dotenv = _read_dotenv(Path(source.get("PARLEY_ENV_FILE", ".env")))

    def get(name: str) -> str:
        if name in source:
            return source[name]
        if name in dotenv:
            return dotenv[name]
        return _DEFAULTS[name]

    data_dir = Path(get("PARLEY_DATA_DIR")).resolve()
    database_url = get("PARLEY_DATABASE_URL") or f"sqlite:///{data_dir / 'parley.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url.removeprefix("postgres://")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    if not database_url.startswith(("sqlite:///", "postgresql+psycopg://")):
        raise ConfigError(f"PARLEY_DATABASE_URL={database_url!r}: expected sqlite:///PATH or postgresql://…")
    bus_url = get("PARLEY_BUS_URL")
    if not bus_url.startswith(("memory://", "redis://", "rediss://")):
        raise ConfigError(f"PARLEY_BUS_URL={bus_url!r}: expected memory:// or redis://…")

    ints = {f.name: f for f in fields(Settings) if f.type in ("int", int)}
    floats = {f.name: f for f in fields(Settings) if f.type in ("float", float)}
    values: dict[str, object] = {}
    for name in ints:
        env_name = "PARLEY_" + name.upper()
        values[name] = _positive(env_name, get(env_name), int)
    for name in floats:
        env_name = "PARLEY_" + name.upper()
        values[name] = _positive(env_name, get(env_name), float)
    proxies = frozenset(p.strip() for p in get("PARLEY_TRUSTED_PROXIES").split(",") if p.strip())
    for proxy in proxies:
        try:
            ipaddress.ip_address(proxy)
        except ValueError:
            raise ConfigError(f"PARLEY_TRUSTED_PROXIES: {proxy!r} is not an IP address") from None
    check = get("PARLEY_CHECK_FRAMES").strip().lower()
    if check not in ("1", "true", "yes", "0", "false", "no", ""):
        raise ConfigError(f"PARLEY_CHECK_FRAMES={check!r}: expected true or false")
    return Settings(
        check_frames=check in ("1", "true", "yes"),
        trusted_proxies=proxies,
        data_dir=data_dir,
        database_url=database_url,
        bus_url=bus_url,
        secret_key=_secret_key(data_dir, get("PARLEY_SECRET_KEY")),
        **values,  # type: ignore[arg-type]
    )
