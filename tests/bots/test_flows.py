"""Flows as data: validation that names the place, and every step type run by the pure step function."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from server.bots.flows import Contact, FlowError, advance, choose, start, validate

ORDER_HELP: dict[str, Any] = {
    "start": "hello",
    "steps": {
        "hello": {"type": "message", "text": "Hi! I am the order bot.", "next": "menu"},
        "menu": {
            "type": "buttons",
            "text": "What do you need?",
            "options": [
                {
                    "label": "Track my order",
                    "keywords": ["track", "where is", "rastrear"],
                    "next": "ask_email",
                },
                {"label": "Returns", "keywords": ["return", "refund", "devolução"], "next": "returns"},
            ],
            "retry_text": "Please pick one of the options.",
            "max_retries": 1,
            "fallback": "human",
        },
        "ask_email": {
            "type": "collect",
            "field": "email",
            "text": "Your email?",
            "invalid_text": "That is not an email address. Your email?",
            "next": "tag",
        },
        "tag": {"type": "set", "tags": ["order-help"], "attributes": {"topic": "tracking"}, "next": "which"},
        "which": {
            "type": "branch",
            "cases": [
                {"when": {"field": "visitor.email", "op": "contains", "value": "@vip."}, "next": "human"}
            ],
            "else": "pause",
        },
        "pause": {"type": "wait", "seconds": 5, "next": "bye"},
        "returns": {"type": "collect", "field": "attribute.order", "text": "Order number?", "next": "human"},
        "human": {"type": "handoff", "text": "Connecting you to a person…", "tags": ["handoff"]},
        "bye": {"type": "end", "text": "Your order ships tomorrow. Bye!"},
    },
}


def _broken(**changes: Any) -> dict[str, Any]:
    flow = copy.deepcopy(ORDER_HELP)
    for path, value in changes.items():
        step, _, key = path.partition("__")
        if key:
            flow["steps"][step][key] = value
        else:
            flow["steps"][step] = value
    return flow


def test_a_good_flow_validates() -> None:
    assert validate(ORDER_HELP) is ORDER_HELP


@pytest.mark.parametrize(
    ("flow", "where", "words"),
    [
        (_broken(bye__type="dance"), "steps.bye.type", "one of"),
        (_broken(hello__next="nowhere"), "steps.hello.next", "no step 'nowhere'"),
        (_broken(extra={"type": "end", "text": "lost"}), "steps.extra", "unreachable"),
        (_broken(human__channel_id="chn_gone"), "steps.human.channel_id", "handoff target"),
        (_broken(menu__options=[]), "steps.menu.options", "1 to 10"),
        (_broken(ask_email__field="shoe_size"), "steps.ask_email.field", "attribute.KEY"),
        (_broken(pause__seconds=0), "steps.pause.seconds", "more than 0"),
        (
            _broken(
                bye={"type": "message", "text": "again", "next": "loop"},
                loop={"type": "set", "tags": ["x"], "next": "bye"},
            ),
            "steps.",
            "never waits",
        ),
    ],
)
def test_bad_flows_are_refused_naming_the_place(flow: dict[str, Any], where: str, words: str) -> None:
    with pytest.raises(FlowError) as refused:
        validate(flow)
    assert refused.value.extra["where"].startswith(where), refused.value.extra
    assert words in refused.value.message


def test_a_loop_through_a_question_is_fine() -> None:
    flow = _broken(bye={"type": "message", "text": "Anything else?", "next": "menu"})
    validate(flow)


def test_every_step_type_in_one_conversation() -> None:
    contact = Contact(name="Rita")
    first = start(ORDER_HELP, contact)
    assert [s["text"] for s in first.say] == ["Hi! I am the order bot.", "What do you need?"]
    assert first.say[1]["buttons"] == ["Track my order", "Returns"]
    assert first.status == "waiting_input" and first.state["step"] == "menu"

    # Free text: a keyword picks the option, accents and case aside.
    picked = advance(ORDER_HELP, first.state, contact, "Where is my parcel??")
    assert picked.say == [{"text": "Your email?"}] and picked.state["answers"]["menu"] == "Track my order"
    # A bad email is asked again; a good one is stored on the contact, then set, branch and wait run.
    again = advance(ORDER_HELP, picked.state, contact, "rita at example")
    assert (
        again.say == [{"text": "That is not an email address. Your email?"}]
        and again.status == "waiting_input"
    )
    done = advance(ORDER_HELP, again.state, contact, "rita@example.com")
    assert done.contact == {"email": "rita@example.com", "attributes": {"topic": "tracking"}}
    assert done.tags == ["order-help"] and done.status == "waiting_time" and done.wait_s == 5
    assert done.state["step"] == "bye"
    # The wait ends: the flow ends with its text.
    ended = advance(ORDER_HELP, done.state, contact, None)
    assert ended.say == [{"text": "Your order ships tomorrow. Bye!"}] and ended.status == "ended"


def test_branching_on_contact_data_hands_off() -> None:
    contact = Contact()
    state = start(ORDER_HELP, contact).state
    state = advance(ORDER_HELP, state, contact, "Track my order").state
    out = advance(ORDER_HELP, state, contact, "boss@vip.example")
    assert out.status == "handed_off" and out.handoff == {
        "text": "Connecting you to a person…",
        "channel_id": None,
        "tags": ["handoff"],
    }


def test_unmatched_text_is_asked_again_then_falls_back() -> None:
    contact = Contact()
    state = start(ORDER_HELP, contact).state
    first = advance(ORDER_HELP, state, contact, "bananas")
    assert first.say == [
        {"text": "Please pick one of the options.", "buttons": ["Track my order", "Returns"]}
    ]
    second = advance(ORDER_HELP, first.state, contact, "still bananas")
    assert second.status == "handed_off"  # max_retries 1, then the fallback: the handoff step


def test_the_visitor_can_always_ask_for_a_human() -> None:
    contact = Contact()
    state = start(ORDER_HELP, contact).state
    for words in ("I want a human", "Quero falar com um atendente", "AGENTE por favor"):
        out = advance(ORDER_HELP, state, contact, words)
        assert out.status == "handed_off", words


def test_keywords_in_other_languages_and_custom_fields() -> None:
    contact = Contact()
    state = start(ORDER_HELP, contact).state
    out = advance(ORDER_HELP, state, contact, "quero uma DEVOLUCAO")
    assert out.say == [{"text": "Order number?"}]
    handed = advance(ORDER_HELP, out.state, contact, "A-1042")
    assert handed.contact == {"attributes": {"order": "A-1042"}} and handed.status == "handed_off"
    assert choose(ORDER_HELP["steps"]["menu"], "returns") is not None


def test_after_a_wait_the_next_question_is_asked_not_answered() -> None:
    flow = {
        "start": "pause",
        "steps": {
            "pause": {"type": "wait", "seconds": 1, "next": "menu"},
            "menu": {"type": "buttons", "text": "Ready?", "options": [{"label": "Yes", "next": "bye"}]},
            "bye": {"type": "end", "text": "Bye"},
        },
    }
    validate(flow)
    waiting = start(flow, Contact())
    assert waiting.status == "waiting_time" and waiting.say == []
    asked = advance(flow, waiting.state, Contact(), None)
    assert asked.say == [{"text": "Ready?", "buttons": ["Yes"]}] and asked.status == "waiting_input"
