"""Wire protocol v1, what the server sends: a model for every frame type.

Nothing else may leave: with ``check_outgoing(True)`` (PARLEY_CHECK_FRAMES, which
the test suite sets) every frame is validated as it is encoded (``dumps``), so each
integration test also checks the wire contract. docs/protocol.schema.json, every
frame both ways, is generated from these models and server/protocol.py's.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from pydantic.json_schema import models_json_schema

from server.protocol import AGENT_FRAMES, VISITOR_FRAMES, Seq

log = logging.getLogger(__name__)

Iso = Annotated[str, StringConstraints(min_length=20, max_length=40)]  # ISO 8601 with a zone
Id = Annotated[str, StringConstraints(min_length=1, max_length=255)]
ORIGINS = ("visitor", "agent", "bot", "proactive", "greeting", "away", "system")
Origin = Literal["visitor", "agent", "bot", "proactive", "greeting", "away", "system"]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Who(Out):
    """Who did something: a reader, who changed a status, who is typing."""

    type: Literal["visitor", "agent", "system", "bot"]
    id: Id | None
    name: str | None = None


class Author(Who):
    avatar_url: str | None = None


class AttachmentOut(Out):
    id: Id
    name: str
    content_type: str
    size: int
    url: str


class MessageOut(Out):
    id: Id
    seq: Seq
    author: Author
    # Where the message came from; read it rather than parsing ids.
    origin: Origin
    client_id: str
    text: str
    created_at: Iso
    buttons: list[str] | None = None
    attachments: list[AttachmentOut] | None = None


class ConversationOut(Out):
    """A conversation's summary (visitors are not told the site and visitor ids)."""

    id: Id
    site_id: Id | None = None
    visitor_id: Id | None = None
    status: Literal["open", "snoozed", "closed"]
    assignee_id: Id | None
    last_seq: Seq
    visitor_read_seq: Seq
    agent_read_seq: Seq
    created_at: Iso | None
    last_activity_at: Iso | None
    closed_at: Iso | None
    closed_by: Id | None
    channel_id: Id | None
    snoozed_until: Iso | None
    bot_active: bool
    last_visitor_seq: Seq
    last_agent_seq: Seq
    last_preview: str
    tags: list[str] | None = None
    ref: str | None = None  # the link reference it started with (?ref=, a utm campaign)


class EventOut(Out):
    conversation_id: Id
    seq: Seq
    at: Iso


class ConversationCreated(EventOut):
    type: Literal["conversation.created"]
    visitor_id: Id
    status: Literal["open"]
    tags: list[str] | None = None


class MessageCreated(EventOut):
    type: Literal["message.created"]
    message: MessageOut


class NoteCreated(EventOut):
    """Agents only: an internal note."""

    type: Literal["note.created"]
    message: MessageOut


class ConversationReadOut(EventOut):
    type: Literal["conversation.read"]
    reader: Who
    up_to_seq: Seq
    read_at: Iso


class ConversationUpdated(EventOut):
    type: Literal["conversation.updated"]
    status: Literal["open", "snoozed", "closed"]
    assignee_id: Id | None
    snoozed_until: Iso | None
    closed_at: Iso | None
    by: Who
    # A bot handed the conversation to people (perhaps on another channel, with tags).
    handoff: bool | None = None
    channel_id: Id | None = None
    tags: list[str] | None = None
    # A merge moved the conversation to this visitor (the contact the browser turned out to be).
    visitor_id: Id | None = None


class TypingUpdated(Out):
    type: Literal["typing.updated"]
    conversation_id: Id
    author: Who
    active: bool


class Ack(Out):
    type: Literal["ack"]
    client_id: str
    conversation_id: Id
    message_id: Id
    seq: Seq
    created_at: Iso
    duplicate: bool


class ErrorOut(Out):
    """A refusal: ``code`` is stable (ERROR_CODES), the rest says what and how to retry."""

    type: Literal["error"]
    code: str
    message: str
    ref: str | None = None  # the refused frame's type
    client_id: str | None = None
    conversation_id: Id | None = None
    delivery_id: Id | None = None
    field: str | None = None
    details: list[dict[str, str]] | None = None
    limit: int | str | None = None
    max: int | None = None
    length: int | None = None
    size: int | None = None
    retry_after_ms: int | None = None
    retry_after_s: float | None = None
    reason: str | None = None
    last_seq: Seq | None = None
    active_conversation_id: Id | None = None
    allowed: list[str] | None = None
    status: str | None = None
    where: str | None = None


class Pong(Out):
    type: Literal["pong"]
    ts: float | int | None
    server_time: float


class VisitorOut(Out):
    id: Id
    name: str | None
    email: str | None
    user_id: str | None
    verified: bool
    phone: str | None
    new: bool | None = None  # welcome only
    visit_count: int | None = None  # welcome only


class SiteOut(Out):
    name: str


class WidgetOut(Out):
    color: str
    position: Literal["right", "left"]
    label: str
    locale: str
    welcome: str
    sound: bool
    consent_required: bool
    name: str
    on: str  # text drawn on the colour
    text: str  # the colour as text on white
    ring: str  # the focus ring


class VisitorLimits(Out):
    max_message_chars: int
    max_frame_bytes: int
    messages_per_window: int
    rate_window_s: float


class VisitorWelcome(Out):
    type: Literal["welcome"]
    protocol: Literal[1]
    token: str
    visitor: VisitorOut
    conversations: list[ConversationOut]
    site: SiteOut
    widget: WidgetOut
    limits: VisitorLimits
    heartbeat_s: float
    idle_timeout_s: float
    server_time: Iso


class UserOut(Out):
    id: Id
    email: str
    name: str
    role: Literal["admin", "agent"]


class AccessOut(Out):
    sections: list[str]
    channels: list[Id] | None


class AgentLimits(Out):
    max_message_chars: int


class AgentWelcome(Out):
    type: Literal["welcome"]
    protocol: Literal[1]
    user: UserOut
    access: AccessOut
    conversations: list[ConversationOut]
    limits: AgentLimits
    heartbeat_s: float
    idle_timeout_s: float
    server_time: Iso


class AccessUpdated(AccessOut):
    type: Literal["access.updated"]


class VisitorIdentified(Out):
    type: Literal["visitor.identified"]
    visitor: VisitorOut
    merged: bool
    token: str | None = None  # merged: reconnect with it


class Sender(Out):
    name: str | None
    avatar_url: str | None


class ProactiveShow(Out):
    type: Literal["proactive.show"]
    delivery_id: Id
    message_id: Id
    response: Literal["agent", "bot"]
    text: str
    collect: list[Literal["name", "email"]]
    sender: Sender
    shown_at: Iso


class ProactiveReplied(Out):
    type: Literal["proactive.replied"]
    delivery_id: Id
    conversation_id: Id


# type -> the models a frame of that type may match (welcome differs by socket).
SERVER_FRAMES: dict[str, tuple[type[Out], ...]] = {
    "welcome": (VisitorWelcome, AgentWelcome),
    "ack": (Ack,),
    "conversation.created": (ConversationCreated,),
    "message.created": (MessageCreated,),
    "note.created": (NoteCreated,),
    "conversation.read": (ConversationReadOut,),
    "conversation.updated": (ConversationUpdated,),
    "typing.updated": (TypingUpdated,),
    "visitor.identified": (VisitorIdentified,),
    "access.updated": (AccessUpdated,),
    "proactive.show": (ProactiveShow,),
    "proactive.replied": (ProactiveReplied,),
    "pong": (Pong,),
    "error": (ErrorOut,),
}


class FrameContractBroken(Exception):
    """The server built a frame its own protocol does not allow (a bug, never the client's)."""


_checking = False


def check_outgoing(enabled: bool) -> None:
    """Validate every frame as it is encoded (the test suite turns this on)."""
    global _checking
    _checking = enabled


def checked(frame: dict[str, Any]) -> dict[str, Any]:
    """The frame, or FrameContractBroken naming what is wrong with it."""
    models = SERVER_FRAMES.get(frame.get("type", ""))
    if not models:
        raise FrameContractBroken(f"no server frame of type {frame.get('type')!r}")
    problems = []
    for model in models:
        try:
            model.model_validate(frame)
            return frame
        except ValidationError as exc:
            problems.append(f"{model.__name__}: {exc.errors(include_url=False)}")
    raise FrameContractBroken(f"{frame.get('type')} frame breaks the contract: {'; '.join(problems)}")


def dumps(frame: dict[str, Any]) -> str:
    if _checking:
        try:
            checked(frame)
        except FrameContractBroken:
            log.exception("FRAME CONTRACT BROKEN")
            raise
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def json_schema() -> dict[str, Any]:
    """Every frame both ways, as JSON Schema (docs/protocol.schema.json), for SDK authors."""
    client: list[type[BaseModel]] = sorted(
        {*VISITOR_FRAMES.values(), *AGENT_FRAMES.values()}, key=lambda m: m.__name__
    )
    server: list[type[BaseModel]] = sorted(
        {m for ms in SERVER_FRAMES.values() for m in ms}, key=lambda m: m.__name__
    )
    _, everything = models_json_schema(
        [(m, "validation") for m in [*client, *server]], ref_template="#/$defs/{model}"
    )
    defs = everything.get("$defs", {})

    def ref(model: type[BaseModel]) -> dict[str, str]:
        return {"$ref": f"#/$defs/{model.__name__}"}

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Parley wire protocol v1",
        "description": "Every frame a client may send and every frame the server sends, generated "
        "from server/protocol.py and server/outgoing.py (`python -m server protocol-schema`); "
        "do not edit by hand. "
        "x-visitor-sends, x-agent-sends and x-server-sends map each frame type to its definition.",
        "anyOf": [ref(m) for m in [*client, *server]],
        "x-visitor-sends": {t: ref(m) for t, m in VISITOR_FRAMES.items()},
        "x-agent-sends": {t: ref(m) for t, m in AGENT_FRAMES.items()},
        "x-server-sends": {t: [ref(m) for m in ms] for t, ms in SERVER_FRAMES.items()},
        "$defs": defs,
    }
