"""The protocol module and its documents must not drift apart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from server.outgoing import SERVER_FRAMES, FrameContractBroken, checked, json_schema
from server.protocol import AGENT_FRAMES, ERROR_CODES, VISITOR_FRAMES

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text()
HTTP_API = (ROOT / "docs" / "http-api.md").read_text()
SCHEMA = ROOT / "docs" / "protocol.schema.json"
# What the server sends comes from its models, so a new frame type needs its documentation.
SERVER_SENT = list(SERVER_FRAMES)


def test_every_frame_type_has_a_documented_example() -> None:
    for frame_type in [*VISITOR_FRAMES, *AGENT_FRAMES, *SERVER_SENT]:
        assert f'"type": "{frame_type}"' in PROTOCOL, frame_type


def test_every_error_code_is_documented() -> None:
    for code in ERROR_CODES:
        assert f"| `{code}` |" in PROTOCOL, code


def test_every_code_the_server_raises_is_listed() -> None:
    raised = set()
    for path in (ROOT / "server").rglob("*.py"):
        raised.update(re.findall(r'code="([a-z_]+)"', path.read_text()))
        raised.update(re.findall(r'error_frame\(\s*"([a-z_]+)"', path.read_text()))
        raised.update(re.findall(r'deny\(ws, \d+, "([a-z_]+)"', path.read_text()))
    documented = set(ERROR_CODES) | set(re.findall(r"`([a-z_]+)`", HTTP_API))
    assert raised - documented == set()


def test_the_json_schema_is_current() -> None:
    """docs/protocol.schema.json is generated from the models; regenerate it with
    `python -m server protocol-schema > docs/protocol.schema.json`."""
    assert json.loads(SCHEMA.read_text()) == json_schema()


def test_the_json_schema_covers_every_frame_both_ways() -> None:
    schema = json_schema()
    assert set(schema["x-visitor-sends"]) == set(VISITOR_FRAMES)
    assert set(schema["x-agent-sends"]) == set(AGENT_FRAMES)
    assert set(schema["x-server-sends"]) == set(SERVER_FRAMES)
    for refs in [*schema["x-visitor-sends"].values(), *schema["x-agent-sends"].values()]:
        assert refs["$ref"].removeprefix("#/$defs/") in schema["$defs"]
    for refs in schema["x-server-sends"].values():
        assert all(r["$ref"].removeprefix("#/$defs/") in schema["$defs"] for r in refs)


def test_the_frame_check_refuses_what_the_models_do_not_allow() -> None:
    """The check every test's servers run (PARLEY_CHECK_FRAMES) can fail."""
    ack = {
        "type": "ack",
        "client_id": "c1",
        "conversation_id": "cnv_1",
        "message_id": "msg_1",
        "seq": 2,
        "created_at": "2026-12-01T10:00:00.000Z",
        "duplicate": False,
    }
    assert checked(ack) == ack
    for wrong in ({**ack, "extra": 1}, {k: v for k, v in ack.items() if k != "seq"}, {"type": "acks"}):
        with pytest.raises(FrameContractBroken):
            checked(wrong)
