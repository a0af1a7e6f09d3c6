"""The protocol module and its documents must not drift apart."""

from __future__ import annotations

import re
from pathlib import Path

from server.protocol import AGENT_FRAMES, ERROR_CODES, VISITOR_FRAMES

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text()
HTTP_API = (ROOT / "docs" / "http-api.md").read_text()
SERVER_SENT = [
    "welcome",
    "ack",
    "conversation.created",
    "message.created",
    "conversation.read",
    "conversation.updated",
    "typing.updated",
    "visitor.identified",
    "proactive.show",
    "proactive.replied",
    "pong",
    "error",
]


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
