"""Bus envelopes are defined once (server/realtime/envelopes.py) and routed by its tables."""

from __future__ import annotations

import re
from pathlib import Path

from server.realtime import envelopes

SERVER = Path(__file__).resolve().parents[2] / "server"


def test_every_kind_has_an_audience_and_an_action() -> None:
    assert set(envelopes.AUDIENCE) == set(envelopes.Kind)
    assert set(envelopes.ACTION) == set(envelopes.Kind)
    hooks = {k for k, action in envelopes.ACTION.items() if action == "hook"}
    assert hooks == {k for k, audience in envelopes.AUDIENCE.items() if audience == "process"}


def test_no_module_builds_an_envelope_by_hand() -> None:
    by_hand = []
    for path in SERVER.rglob("*.py"):
        if path.name == "envelopes.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"""["']t["']\s*:\s*["']""", line) or re.search(r"""\[["']t["']\]\s*[!=]=""", line):
                by_hand.append(f"{path.relative_to(SERVER)}:{number}: {line.strip()}")
    assert by_hand == []


def test_builders_make_the_kinds_they_name() -> None:
    made = [
        envelopes.events({"id": "c"}, []),
        envelopes.typing({"id": "c"}, {}),
        envelopes.user_revoked("u"),
        envelopes.user_access("u"),
        envelopes.session_ended("s"),
        envelopes.proactive_changed("s"),
        envelopes.site_changed("k"),
        envelopes.bus_resync(),
    ]
    assert {envelopes.Kind(e["t"]) for e in made} == set(envelopes.Kind)
