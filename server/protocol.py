"""Wire protocol v1: every frame a client may send, every error code, every close code.

One module is the contract; docs/protocol.md explains it with an example of
each frame, docs/protocol.schema.json is generated from it, and tests check
that both agree with it. Incoming frames are typed models that reject unknown
fields and wrong types (strict mode: "5" is not an int). Outgoing frames are
built as plain dicts by the functions that own them, and each type has a
model below (``SERVER_FRAMES``) that the test suite checks every one against.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic.json_schema import models_json_schema

from server import untrusted
from server.errors import ParleyError

log = logging.getLogger(__name__)

ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
ConversationId = Annotated[str, StringConstraints(min_length=1, max_length=40)]
# Sequence numbers fit a JavaScript number and a PostgreSQL bigint.
Seq = Annotated[int, Field(ge=0, le=2**53 - 1)]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Page(Frame):
    url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    title: Annotated[str, StringConstraints(max_length=512)] | None = None
    referrer: Annotated[str, StringConstraints(max_length=2048)] | None = None
    # The client's id for this page view, the same on every reconnect from the
    # page, and the seconds already spent on it: a reconnect is not a new page.
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,32}$")] | None = None
    elapsed_s: Annotated[float, Field(ge=0, le=86_400)] | None = None


class ClientInfo(Frame):
    kind: Literal["web", "ios", "android", "sdk"] = "web"
    version: Annotated[str, StringConstraints(max_length=32)] | None = None


class VisitorHello(Frame):
    type: Literal["hello"]
    site_key: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    token: Annotated[str, StringConstraints(max_length=1024)] | None = None
    page: Page | None = None
    locale: Annotated[str, StringConstraints(max_length=35)] | None = None
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = None
    client: ClientInfo | None = None
    cursors: Annotated[dict[ConversationId, Seq], Field(max_length=100)] = {}


class AgentHello(Frame):
    type: Literal["hello"]
    cursors: Annotated[dict[ConversationId, Seq], Field(max_length=1000)] = {}


DeliveryId = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class MessageSend(Frame):
    type: Literal["message.send"]
    client_id: ClientId
    conversation_id: ConversationId | None = None
    # Length is checked by the handler, which names the limit (message_too_long).
    text: str
    # Visitors: the proactive message this answers (it opens the conversation first).
    delivery_id: DeliveryId | None = None
    # Uploads of the sender's to send with it (POST …/attachments); the text may then be empty.
    attachments: (
        Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=40)]], Field(max_length=5)]
        | None
    ) = None


class ProactiveSeen(Frame):
    type: Literal["proactive.opened", "proactive.dismissed"]
    delivery_id: DeliveryId


class ProactiveReply(Frame):
    type: Literal["proactive.reply"]
    delivery_id: DeliveryId
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None


class ConversationRead(Frame):
    type: Literal["conversation.read"]
    conversation_id: ConversationId
    up_to_seq: Seq


class TypingUpdate(Frame):
    type: Literal["typing.update"]
    conversation_id: ConversationId
    active: bool


class ConversationUpdate(Frame):
    """Any of: a status (snoozed needs snoozed_until), an assignee (null unassigns)."""

    type: Literal["conversation.update"]
    conversation_id: ConversationId
    status: Literal["open", "closed", "snoozed"] | None = None
    # ISO 8601 with a zone, e.g. 2026-11-23T09:00:00Z
    snoozed_until: Annotated[str, StringConstraints(max_length=40)] | None = None
    assignee_id: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None


class NoteAdd(Frame):
    type: Literal["note.add"]
    client_id: ClientId
    conversation_id: ConversationId
    text: str


class PageViewFrame(Frame):
    type: Literal["page.view"]
    page: Page


AttributeKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
AttributeValue = Annotated[str, StringConstraints(max_length=255)] | int | float | bool | None


class VisitorIdentify(Frame):
    type: Literal["visitor.identify"]
    user_id: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40, pattern=r"^[0-9+()./ \-]*$")] | None = None
    # hex HMAC-SHA256 of user_id with the site's identity secret
    user_hash: Annotated[str, StringConstraints(max_length=128)] | None = None


class VisitorSet(Frame):
    type: Literal["visitor.set"]
    attributes: Annotated[dict[AttributeKey, AttributeValue], Field(min_length=1, max_length=50)]


class EventTrack(Frame):
    type: Literal["event.track"]
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    props: Annotated[dict[AttributeKey, AttributeValue], Field(max_length=20)] = {}


class Ping(Frame):
    type: Literal["ping"]
    ts: float | int | None = None


VISITOR_FRAMES: dict[str, type[Frame]] = {
    "hello": VisitorHello,
    "message.send": MessageSend,
    "conversation.read": ConversationRead,
    "typing.update": TypingUpdate,
    "page.view": PageViewFrame,
    "visitor.identify": VisitorIdentify,
    "visitor.set": VisitorSet,
    "event.track": EventTrack,
    "proactive.opened": ProactiveSeen,
    "proactive.dismissed": ProactiveSeen,
    "proactive.reply": ProactiveReply,
    "ping": Ping,
}

AGENT_FRAMES: dict[str, type[Frame]] = {
    "hello": AgentHello,
    "message.send": MessageSend,
    "conversation.read": ConversationRead,
    "conversation.update": ConversationUpdate,
    "note.add": NoteAdd,
    "typing.update": TypingUpdate,
    "ping": Ping,
}

# Stable error codes, with what they mean. docs/protocol.md lists each one.
ERROR_CODES: dict[str, str] = {
    "bad_json": "the frame is not valid JSON (numbers must be finite)",
    "too_deep": "the JSON nests deeper than 64 levels",
    "invalid_text": "a string holds a NUL character or an unpaired surrogate, which cannot be stored",
    "bad_frame": "the frame is not a JSON object with a string 'type'",
    "unknown_type": "no frame of that type exists in protocol v1",
    "invalid_frame": "a field is missing, unknown, or of the wrong type",
    "binary_frame": "binary frames are not part of protocol v1",
    "frame_too_large": "the frame is larger than the frame size limit",
    "hello_required": "the first frame must be hello",
    "hello_repeated": "hello was already sent on this connection",
    "site_unknown": "no site has that key",
    "site_mismatch": "the hello's site_key differs from the one in the socket URL",
    "token_invalid": "the visitor token is forged or damaged",
    "token_expired": "the visitor token is too old",
    "token_wrong_site": "the visitor token belongs to another site",
    "message_empty": "the message text is empty or only spaces",
    "message_too_long": "the message text is longer than the limit",
    "rate_limited": "too many messages or frames; retry after retry_after_ms",
    "conversation_not_found": "no such conversation, or not yours",
    "conversation_closed": "the conversation is closed and the visitor has another active one",
    "client_id_conflict": "that client id was used by another sender in the conversation",
    "invalid_status": "that conversation status does not exist",
    "attachment_not_found": "no unsent attachment of yours has that id",
    "too_many_attachments": "a message takes at most 5 attachments",
    "invalid_snooze": "snooze needs snoozed_until, a future time with a zone",
    "assignee_invalid": "no active user with that id to assign",
    "assignee_no_access": "the assignee may not see the conversation's channel",
    "channel_forbidden": "you were not granted the conversation's channel",
    "section_forbidden": "your role does not include that part of the workspace",
    "identity_unverified": "identify needs a valid user_hash (HMAC of user_id with the site's secret)",
    "invalid_email": "the email address is not valid",
    "too_many_attributes": "the visitor would have more attributes than allowed",
    "delivery_not_found": "no such proactive delivery for this visitor",
    "name_required": "the proactive message asks for a name",
    "details_required": "the proactive message asks for details before a message",
    "resync_required": "the server cannot replay from your cursor; fetch history over HTTP",
    "not_authenticated": "the agent socket needs a valid session cookie",
    "session_revoked": "the session was revoked (password changed or account disabled)",
    "origin_not_allowed": "the page's origin is not among the site's allowed domains",
    "too_many_connections": "too many open sockets from this IP address",
    "database_unavailable": "the database is unreachable; retry with the same client id after retry_after_ms",
    "unstorable": "a value in the frame cannot be stored (out of range); do not retry it unchanged",
    "internal_error": "the server failed; the frame was not processed and can be retried",
}

# WebSocket close codes (4000-4999 are ours).
CLOSE_PROTOCOL = 4400  # repeated abuse of the protocol
CLOSE_UNAUTHORIZED = 4401  # bad token or session; reconnect without it / sign in
CLOSE_TIMEOUT = 4408  # no hello in time, or idle past the idle timeout
CLOSE_RATE = 4429  # flooding, or too slow to read what it is sent


class FrameError(ParleyError):
    """A frame the server refuses; the connection stays usable."""


def parse(raw: str, table: dict[str, type[Frame]]) -> Frame:
    data = untrusted.loads(raw)  # bad_json, too_deep, invalid_text
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise FrameError("a frame must be a JSON object with a string 'type'", code="bad_frame")
    model = table.get(data["type"])
    if model is None:
        raise FrameError(f"unknown frame type {data['type'][:64]!r}", code="unknown_type")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise FrameError(
            f"invalid {data['type']} frame: " + "; ".join(f"{d['field']}: {d['problem']}" for d in details),
            code="invalid_frame",
            details=details,
        ) from None


def error_frame(code: str, message: str, **extra: Any) -> dict[str, Any]:
    # Every code must be in ERROR_CODES and docs/protocol.md; a test checks
    # the source for strays rather than failing here, mid-conversation.
    return {"type": "error", "code": code, "message": message, **extra}


# -- what the server sends -------------------------------------------------------------
#
# Every frame the server sends has a model here; nothing else may leave. With
# ``check_outgoing(True)`` (PARLEY_CHECK_FRAMES, which the test suite sets) every
# frame is validated as it is encoded, so each integration test also checks the
# wire contract. docs/protocol.schema.json is generated from these models.

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
        "from server/protocol.py (`python -m server protocol-schema`); do not edit by hand. "
        "x-visitor-sends, x-agent-sends and x-server-sends map each frame type to its definition.",
        "anyOf": [ref(m) for m in [*client, *server]],
        "x-visitor-sends": {t: ref(m) for t, m in VISITOR_FRAMES.items()},
        "x-agent-sends": {t: ref(m) for t, m in AGENT_FRAMES.items()},
        "x-server-sends": {t: [ref(m) for m in ms] for t, ms in SERVER_FRAMES.items()},
        "$defs": defs,
    }
