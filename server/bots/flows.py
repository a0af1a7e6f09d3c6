"""Bot answers as flows: their JSON, its validation, and one pure step function.

A flow is ``{"start": STEP_ID, "steps": {STEP_ID: STEP, …}}``. Steps:

- ``message``: ``{"text", "next"}``: say something.
- ``buttons``: ``{"text", "options": [{"label", "keywords", "next"}], "retry_text",
  "max_retries", "fallback"}``: offer quick replies; free text matches a label or a
  keyword (a word of it, accents and case ignored), else the question is asked
  again, and after ``max_retries`` the flow goes to ``fallback`` (a handoff if unset).
- ``collect``: ``{"field": "name" | "email" | "phone" | "attribute.KEY", "text",
  "invalid_text", "next"}``: ask, validate, ask again until valid.
- ``set``: ``{"tags": [...], "attributes": {KEY: VALUE}, "next"}``: tag the contact.
- ``branch``: ``{"cases": [{"when": {"field", "op", "value"}, "next"}], "else"}``: on an
  earlier answer (``answer.STEP``), the contact (``visitor.email``, ``attribute.KEY``,
  the link references ``contact.ref``, ``contact.first_ref``, ``conversation.ref``)
  or ``tags``.
- ``wait``: ``{"seconds", "next"}``: pause (a timer the server keeps across restarts).
- ``handoff``: ``{"text", "channel_id", "tags"}``: hand the conversation to agents.
- ``end``: ``{"text"}``: stop.

``advance`` is pure: given the flow, the run's state and what the visitor wrote,
it returns what to say and do and the next state. The runtime stores the state
in the same transaction as the bot's messages, so a restart resumes exactly
where the flow was; the admin preview runs the same function without storage.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from server.contacts.fields import Field, value_of
from server.errors import InvalidInput
from server.operators import holds as compare

STEP_TYPES = ("message", "buttons", "collect", "set", "branch", "wait", "handoff", "end")
FIELDS = ("name", "email", "phone")
MAX_STEPS = 100
MAX_TEXT = 1000
MAX_WAIT_S = 86_400
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()./-]{6,40}$")
# Words that always reach a person, whatever step the flow is at.
HUMAN = frozenset(
    ["human", "agent", "person", "operator", "someone", "humano", "atendente", "pessoa", "agente", "persona"]
)
# Steps that stop the run until the visitor writes.
ASKS = ("buttons", "collect")


class FlowError(InvalidInput):
    code = "invalid_flow"


def _bad(where: str, problem: str) -> FlowError:
    return FlowError(f"{where}: {problem}", where=where)


def _text(step: dict[str, Any], key: str, where: str, required: bool = True) -> None:
    value = step.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise _bad(f"{where}.{key}", f"text of 1 to {MAX_TEXT} characters")


def validate(flow: Any, *, channel_ids: set[str] | None = None) -> dict[str, Any]:
    """A flow's JSON, checked: every step well formed, every ``next`` a step, every
    step reachable, a handoff's channel existing, and no loop that never waits.

    Errors name the place (``where``, e.g. ``steps.menu.options[1].next``).
    """
    if not isinstance(flow, dict) or not isinstance(flow.get("steps"), dict) or not flow["steps"]:
        raise _bad("steps", 'a flow is {"start": STEP, "steps": {STEP: {...}}}')
    steps: dict[str, Any] = flow["steps"]
    if len(steps) > MAX_STEPS:
        raise _bad("steps", f"at most {MAX_STEPS} steps")
    if flow.get("start") not in steps:
        raise _bad("start", "must name one of the steps")
    for sid, step in steps.items():
        where = f"steps.{sid}"
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", sid):
            raise _bad(where, "step ids are 1 to 40 letters, digits, - or _")
        if not isinstance(step, dict) or step.get("type") not in STEP_TYPES:
            raise _bad(f"{where}.type", f"one of {', '.join(STEP_TYPES)}")
        _check_step(sid, step, steps, where, channel_ids)
    reachable = _reachable(flow["start"], steps)
    unreachable = [sid for sid in steps if sid not in reachable]
    if unreachable:
        raise _bad(f"steps.{unreachable[0]}", "no step leads here (unreachable)")
    loop = _silent_loop(steps)
    if loop:
        raise _bad(f"steps.{loop[0]}", "a loop that never waits: " + " → ".join([*loop, loop[0]]))
    return flow


def _target(value: Any, steps: dict[str, Any], where: str, required: bool = True) -> None:
    if value is None and not required:
        return
    if value not in steps:
        raise _bad(where, f"no step {value!r}")


def _check_step(
    sid: str, step: dict[str, Any], steps: dict[str, Any], where: str, channel_ids: set[str] | None
) -> None:
    kind = step["type"]
    if kind in ("message", "buttons", "collect"):
        _text(step, "text", where)
    if kind in ("message", "collect", "set", "wait"):
        _target(step.get("next"), steps, f"{where}.next")
    if kind == "buttons":
        options = step.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= 10:
            raise _bad(f"{where}.options", "1 to 10 options")
        for i, option in enumerate(options):
            at = f"{where}.options[{i}]"
            if not isinstance(option, dict):
                raise _bad(at, "an option is {label, keywords, next}")
            if not isinstance(option.get("label"), str) or not 1 <= len(option["label"].strip()) <= 40:
                raise _bad(f"{at}.label", "1 to 40 characters")
            keywords = option.get("keywords", [])
            if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
                raise _bad(f"{at}.keywords", "a list of words")
            _target(option.get("next"), steps, f"{at}.next")
        _text(step, "retry_text", where, required=False)
        retries = step.get("max_retries", 2)
        if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 5:
            raise _bad(f"{where}.max_retries", "0 to 5")
        _target(step.get("fallback"), steps, f"{where}.fallback", required=False)
    elif kind == "collect":
        wanted = step.get("field")
        if wanted not in FIELDS and not (
            isinstance(wanted, str) and re.fullmatch(r"attribute\.[A-Za-z0-9_.:-]{1,64}", wanted)
        ):
            raise _bad(f"{where}.field", "name, email, phone or attribute.KEY")
        _text(step, "invalid_text", where, required=False)
    elif kind == "set":
        tags = step.get("tags", [])
        attributes = step.get("attributes", {})
        if not isinstance(tags, list) or not all(isinstance(t, str) and 1 <= len(t) <= 50 for t in tags):
            raise _bad(f"{where}.tags", "a list of tags of 1 to 50 characters")
        if not isinstance(attributes, dict) or not all(
            re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", k) and isinstance(v, str | int | float | bool)
            for k, v in attributes.items()
        ):
            raise _bad(f"{where}.attributes", "an object of attribute names and plain values")
        if not tags and not attributes:
            raise _bad(where, "set at least one tag or attribute")
    elif kind == "branch":
        cases = step.get("cases")
        if not isinstance(cases, list) or not 1 <= len(cases) <= 10:
            raise _bad(f"{where}.cases", "1 to 10 cases")
        for i, case in enumerate(cases):
            at = f"{where}.cases[{i}]"
            when = case.get("when") if isinstance(case, dict) else None
            if (
                not isinstance(when, dict)
                or not isinstance(when.get("field"), str)
                or not isinstance(when.get("op"), str)
            ):
                raise _bad(f"{at}.when", "a condition {field, op, value}")
            if when["op"] not in ("is", "is_not", "contains", "not_contains", "starts_with", "is_set"):
                raise _bad(f"{at}.when.op", "is, is_not, contains, not_contains, starts_with or is_set")
            _target(case.get("next"), steps, f"{at}.next")
        _target(step.get("else"), steps, f"{where}.else")
    elif kind == "wait":
        seconds = step.get("seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 < seconds <= MAX_WAIT_S:
            raise _bad(f"{where}.seconds", f"more than 0 and at most {MAX_WAIT_S}")
    elif kind == "handoff":
        _text(step, "text", where, required=False)
        channel = step.get("channel_id")
        if channel is not None and (channel_ids is None or channel not in channel_ids):
            raise _bad(f"{where}.channel_id", f"no channel {channel!r} on this site (the handoff target)")
    elif kind == "end":
        _text(step, "text", where, required=False)


def _nexts(step: dict[str, Any]) -> list[str]:
    kind = step["type"]
    if kind == "buttons":
        found = [o["next"] for o in step["options"]]
        return found + ([step["fallback"]] if step.get("fallback") else [])
    if kind == "branch":
        return [c["next"] for c in step["cases"]] + [step["else"]]
    if kind in ("handoff", "end"):
        return []
    return [step["next"]]


def _reachable(start: str, steps: dict[str, Any]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        sid = todo.pop()
        if sid not in seen:
            seen.add(sid)
            todo += _nexts(steps[sid])
    return seen


def _silent_loop(steps: dict[str, Any]) -> list[str] | None:
    """A cycle through steps that neither ask nor wait: it would run for ever."""
    silent = {sid for sid, s in steps.items() if s["type"] not in (*ASKS, "wait")}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(sid: str) -> list[str] | None:
        state[sid] = 1
        path.append(sid)
        for nxt in _nexts(steps[sid]):
            if nxt not in silent:
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt) :]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[sid] = 2
        path.pop()
        return None

    for sid in sorted(silent):
        if sid not in state:
            found = visit(sid)
            if found:
                return found
    return None


# -- running ----------------------------------------------------------------------------


@dataclass
class Contact:
    """What a branch may look at, and what the flow has learnt."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    fields: dict[str, Field] = field(default_factory=dict)  # the site's custom fields, by key
    refs: dict[str, str | None] = field(default_factory=dict)  # contact.ref, conversation.ref, …


@dataclass
class Outcome:
    """What one advance did: messages to send (a message may offer buttons), changes
    to the contact, and how the run stands now."""

    say: list[dict[str, Any]] = field(default_factory=list)
    contact: dict[str, Any] = field(default_factory=dict)  # name/email/phone/attributes
    tags: list[str] = field(default_factory=list)
    handoff: dict[str, Any] | None = None
    wait_s: float | None = None
    status: str = "waiting_input"  # waiting_input | waiting_time | handed_off | ended
    state: dict[str, Any] = field(default_factory=dict)


def fold(text: str) -> str:
    """Lower case without accents: "Não" and "nao" match."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in plain if not unicodedata.combining(ch))


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", fold(text)))


def wants_human(text: str) -> bool:
    return bool(_words(text) & HUMAN)


def choose(step: dict[str, Any], text: str) -> dict[str, Any] | None:
    """The option a visitor's words pick: the label itself, or one of its keywords."""
    said = fold(text).strip()
    words = _words(text)
    for option in step["options"]:
        if said == fold(option["label"]).strip():
            return dict(option)
    for option in step["options"]:
        for keyword in option.get("keywords", []):
            wanted = _words(keyword)
            if wanted and wanted <= words:
                return dict(option)
    return None


def _ask(step: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    said: dict[str, Any] = {"text": text or step["text"]}
    if step["type"] == "buttons":
        said["buttons"] = [o["label"] for o in step["options"]]
    return said


def _value(name: str, state: dict[str, Any], contact: Contact) -> Any:
    if name.startswith("answer."):
        return state.get("answers", {}).get(name[7:])
    if name.startswith("visitor."):
        return getattr(contact, name[8:], None) if name[8:] in FIELDS else None
    if name.startswith("attribute."):
        return contact.attributes.get(name[10:])
    if name == "tags":
        return " ".join(contact.tags)
    if name in ("contact.ref", "contact.first_ref", "conversation.ref"):
        return contact.refs.get(name)
    return None


def start(flow: dict[str, Any], contact: Contact) -> Outcome:
    return _run(flow, {"step": flow["start"], "answers": {}, "retries": 0}, contact, None, entering=True)


def advance(flow: dict[str, Any], state: dict[str, Any], contact: Contact, text: str | None) -> Outcome:
    """The run after the visitor wrote ``text`` (None: a wait ended)."""
    if text is not None and wants_human(text):
        target = next((sid for sid, s in flow["steps"].items() if s["type"] == "handoff"), None)
        if target is None:
            outcome = Outcome(state=dict(state), status="handed_off")
            outcome.handoff = {"text": None, "channel_id": None, "tags": []}
            return outcome
        return _run(flow, {**state, "step": target, "retries": 0}, contact, None, entering=True)
    # After a wait the next step is entered (asked), not answered.
    return _run(flow, dict(state), contact, text, entering=text is None)


def _run(
    flow: dict[str, Any], state: dict[str, Any], contact: Contact, text: str | None, *, entering: bool
) -> Outcome:
    steps = flow["steps"]
    out = Outcome()
    state = {"retries": 0, **state, "answers": dict(state.get("answers", {}))}
    for _ in range(MAX_STEPS * 2):  # validation forbids silent loops; this is a second guard
        sid = state["step"]
        step = steps[sid]
        kind = step["type"]
        if kind in ASKS and entering:
            out.say.append(_ask(step))
            out.status, out.state = "waiting_input", state
            return out
        if kind in ASKS:  # the visitor's answer to this step
            reply = text or ""
            text, entering = None, True
            if kind == "buttons":
                picked = choose(step, reply)
                if picked is None:
                    state["retries"] = state.get("retries", 0) + 1
                    if state["retries"] > step.get("max_retries", 2):
                        fallback = step.get("fallback")
                        state["retries"] = 0
                        if fallback is None:
                            out.status, out.state = "handed_off", state
                            out.handoff = {"text": None, "channel_id": None, "tags": []}
                            return out
                        state["step"] = fallback
                        continue
                    out.say.append(_ask(step, step.get("retry_text") or step["text"]))
                    out.status, out.state = "waiting_input", state
                    return out
                state["answers"][sid] = picked["label"]
                state["retries"] = 0
                state["step"] = picked["next"]
                continue
            value: Any = reply.strip()
            ok = _valid(step["field"], value)
            typed = contact.fields.get(step["field"][10:]) if step["field"].startswith("attribute.") else None
            if ok and typed is not None:
                try:
                    value = value_of(typed, value)
                except InvalidInput:
                    ok = False
            if not ok:
                out.say.append(_ask(step, step.get("invalid_text") or step["text"]))
                out.status, out.state = "waiting_input", state
                return out
            state["answers"][sid] = value
            if step["field"] in FIELDS:
                out.contact[step["field"]] = value
                setattr(contact, step["field"], value)
            else:
                key = step["field"][10:]
                out.contact.setdefault("attributes", {})[key] = value
                contact.attributes[key] = value
            state["step"] = step["next"]
            continue
        entering = True
        if kind == "message":
            out.say.append({"text": step["text"]})
            state["step"] = step["next"]
        elif kind == "set":
            for tag in step.get("tags", []):
                if tag not in out.tags:
                    out.tags.append(tag)
                if tag not in contact.tags:
                    contact.tags.append(tag)
            if step.get("attributes"):
                out.contact.setdefault("attributes", {}).update(step["attributes"])
                contact.attributes.update(step["attributes"])
            state["step"] = step["next"]
        elif kind == "branch":
            state["step"] = step["else"]
            for case in step["cases"]:
                when = case["when"]
                if compare(when["op"], _value(when["field"], state, contact), when.get("value")):
                    state["step"] = case["next"]
                    break
        elif kind == "wait":
            state["step"] = step["next"]
            out.wait_s = float(step["seconds"])
            out.status, out.state = "waiting_time", state
            return out
        elif kind == "handoff":
            if step.get("text"):
                out.say.append({"text": step["text"]})
            out.handoff = {
                "text": step.get("text"),
                "channel_id": step.get("channel_id"),
                "tags": step.get("tags", []),
            }
            out.status, out.state = "handed_off", state
            return out
        else:  # end
            if step.get("text"):
                out.say.append({"text": step["text"]})
            out.status, out.state = "ended", state
            return out
    raise RuntimeError("a flow ran too many steps without waiting")


def _valid(kind: str, value: str) -> bool:
    if not value or len(value) > 255:
        return False
    if kind == "email":
        return EMAIL.match(value) is not None
    if kind == "phone":
        return PHONE.match(value) is not None and sum(ch.isdigit() for ch in value) >= 6
    return True
