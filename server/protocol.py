"""Wire protocol v1: every frame a client may send, every error code, every close code.

One module is the contract; docs/protocol.md explains it with an example of
each frame, docs/protocol.schema.json is generated from it, and tests check
that both agree with it. Incoming frames are typed models that reject unknown
fields and wrong types (strict mode: "5" is not an int). What the server sends
is server/outgoing.py: a model for each frame type, checked as frames are encoded.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from server import untrusted
from server.errors import ParleyError

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
    "invalid_field_value": "a custom field's value is not of its type",
    "invalid_ref": "a link reference that is empty, too long or has control characters",
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
