"""Configuration: environment, then .env, then defaults; bad values name themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import ConfigError, load_settings


def test_defaults_and_database_url_forms(tmp_path: Path) -> None:
    base = {"PARLEY_DATA_DIR": str(tmp_path), "PARLEY_ENV_FILE": str(tmp_path / "none")}
    settings = load_settings(base)
    assert settings.database_url == f"sqlite:///{tmp_path / 'parley.db'}"
    assert settings.bus_url == "memory://" and settings.max_message_chars == 1000
    assert (tmp_path / "secret_key").is_file()  # kept, so tokens survive restarts
    assert load_settings(base).secret_key == settings.secret_key
    pg = load_settings({**base, "PARLEY_DATABASE_URL": "postgres://u@h/db"})
    assert pg.database_url == "postgresql+psycopg://u@h/db"


def test_dotenv_is_read_below_the_environment(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PARLEY_MAX_MESSAGE_CHARS=500\nPARLEY_REPLAY_LIMIT=7\n# comment\n")
    settings = load_settings(
        {"PARLEY_DATA_DIR": str(tmp_path), "PARLEY_ENV_FILE": str(env_file), "PARLEY_REPLAY_LIMIT": "9"}
    )
    assert settings.max_message_chars == 500 and settings.replay_limit == 9


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("PARLEY_MAX_MESSAGE_CHARS", "0", "must be greater than zero"),
        ("PARLEY_RATE_WINDOW_S", "soon", "is not a valid float"),
        ("PARLEY_BUS_URL", "kafka://x", "expected memory:// or redis://"),
        ("PARLEY_DATABASE_URL", "mysql://x", "expected sqlite:///PATH or postgresql://"),
        ("PARLEY_SECRET_KEY", "tiny", "at least 32 characters"),
    ],
)
def test_bad_values_fail_with_their_name(tmp_path: Path, name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError, match=name) as raised:
        load_settings({"PARLEY_DATA_DIR": str(tmp_path), "PARLEY_ENV_FILE": "none", name: value})
    assert says in str(raised.value)
