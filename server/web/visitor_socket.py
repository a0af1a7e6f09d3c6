"""``/ws/v1/visitor``: the widget's and every mobile SDK's socket."""

from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket

from server import merging
from server.contacts import actions as contact_actions
from server.contacts import store as contacts
from server.conversations import actions, queries
from server.conversations.events import Author
from server.errors import NotFound
from server.ids import iso, utcnow
from server.proactive import actions as proactive
from server.proactive.engine import context_for, refs_for
from server.protocol import (
    VISITOR_FRAMES,
    ConversationRead,
    EventTrack,
    FrameError,
    MessageSend,
    PageViewFrame,
    ProactiveReply,
    ProactiveSeen,
    TypingUpdate,
    VisitorHello,
    VisitorIdentify,
    VisitorSet,
)
from server.realtime.connection import Connection
from server.services import Services, services_of
from server.sites import widget
from server.sites.models import Site
from server.sites.origins import origin_allowed
from server.tracking import actions as tracking
from server.tracking.store import Arrival
from server.web.sockets import (
    Session,
    admit,
    deny,
    rate_check,
    reply,
)


async def visitor_socket(ws: WebSocket) -> None:
    services = services_of(ws)
    site = await services.sites.by_key(ws.query_params.get("site", ""))
    if site is None:
        await deny(ws, 404, "site_unknown", "no site has that key; connect to /ws/v1/visitor?site=KEY")
        return
    origin = ws.headers.get("origin")
    if origin is not None:
        if not origin_allowed(origin, site.allowed_domains):
            await deny(ws, 403, "origin_not_allowed", f"{origin!r} may not embed this site's widget")
            return
    elif not site.settings.get("allow_originless", True):
        await deny(ws, 403, "origin_not_allowed", "this site accepts only browser connections")
        return
    await admit(services, ws, VisitorSession(services, site))


class VisitorSession(Session):
    kind = "visitor"
    frames = VISITOR_FRAMES

    def __init__(self, services: Services, site: Site) -> None:
        super().__init__(services)
        self.site = site
        self.name: str | None = None
        # The channel a conversation this socket starts belongs to.
        self.channel_kind = "web"
        self.channel_of: dict[str, str | None] = {}  # conversation id -> channel id

    def author(self, conn: Connection) -> Author:
        return Author("visitor", conn.visitor_id, self.name)

    async def hello(self, conn: Connection, frame: VisitorHello) -> None:
        services = self.services
        if conn.ready:
            raise FrameError("hello was already answered on this connection", code="hello_repeated")
        if frame.site_key != self.site.key:
            raise FrameError(
                f"site_key {frame.site_key!r} differs from the socket URL's site",
                code="site_mismatch",
            )
        claimed = None
        if frame.token:
            claimed = services.tokens.read_visitor_token(frame.token, self.site.id).visitor_id
        page = frame.page
        arrival = Arrival(
            locale=frame.locale,
            timezone=frame.timezone,
            client_kind=frame.client.kind if frame.client else "web",
            page_url=page.url if page else None,
            referrer=page.referrer if page else None,
            user_agent=conn.ws.headers.get("user-agent"),
        )

        visitor, is_new, visit = await tracking.arrive(
            services.db,
            site_id=self.site.id,
            visitor_id=claimed,
            arrival=arrival,
            visit_timeout_s=services.settings.visit_timeout_s,
            page=page,
        )
        self.channel_kind = "web" if arrival.client_kind == "web" else "sdk"

        def known(c: Any) -> tuple[Any, list[dict[str, Any]]]:  # one read for both
            context = context_for(c, self.site, visitor, visit, arrival.client_kind)
            return context, queries.visitor_conversations(c, visitor.id)

        conn.proactive, conversations = await services.db.read(known)
        self.name = visitor.name
        conn.site_id = self.site.id
        conn.visitor_id = visitor.id
        conn.conversations.update(c["id"] for c in conversations)
        services.hub.attach(conn)  # live events queue behind what follows
        settings = services.settings
        await conn.send(
            {
                "type": "welcome",
                "protocol": 1,
                "token": services.tokens.visitor_token(visitor.id, self.site.id),
                "visitor": {
                    **contacts.visitor_public(visitor),
                    "new": is_new,
                    "visit_count": visitor.visit_count,
                },
                "conversations": [_public(c) for c in conversations],
                "site": {"name": self.site.name},
                "widget": widget.public_settings(self.site),
                "limits": {
                    "max_message_chars": settings.max_message_chars,
                    "max_frame_bytes": settings.max_frame_bytes,
                    "messages_per_window": settings.messages_per_connection,
                    "rate_window_s": settings.rate_window_s,
                },
                "heartbeat_s": settings.heartbeat_interval_s,
                "idle_timeout_s": settings.idle_timeout_s,
                "server_time": iso(utcnow()),
            }
        )
        await services.hub.resume(conn, frame.cursors, conversations)
        if page is not None:
            await services.proactive.page_loaded(conn, page)

    async def message_send(self, conn: Connection, frame: MessageSend) -> None:
        rate_check(self.services, conn)
        if frame.delivery_id is not None:
            if frame.text.strip() or not frame.attachments:
                actions.check_text(frame.text, self.services.settings.max_message_chars)
            ack = await proactive.first_message(
                self.services.db,
                self.services.bus,
                site_id=self.site.id,
                site_name=self.site.name,
                delivery_id=frame.delivery_id,
                author=self.author(conn),
                client_id=frame.client_id,
                text=frame.text,
                attachment_ids=frame.attachments,
            )
        else:
            ack = await actions.send_message(
                self.services.db,
                self.services.bus,
                author=self.author(conn),
                client_id=frame.client_id,
                text=frame.text,
                conversation_id=frame.conversation_id,
                max_chars=self.services.settings.max_message_chars,
                site_id=conn.site_id,
                visitor_id=conn.visitor_id,
                channel_kind=self.channel_kind,
                attachment_ids=frame.attachments,
            )
        conn.conversations.add(ack["conversation_id"])
        await reply(self.services, conn, {"type": "ack", **ack})

    async def conversation_read(self, conn: Connection, frame: ConversationRead) -> None:
        await actions.mark_read(
            self.services.db,
            self.services.bus,
            conversation_id=frame.conversation_id,
            reader=self.author(conn),
            up_to_seq=frame.up_to_seq,
            visitor_id=conn.visitor_id,
        )

    async def typing_update(self, conn: Connection, frame: TypingUpdate) -> None:
        if frame.conversation_id not in self.channel_of:
            found = await self.services.db.read(queries.conversation, frame.conversation_id)
            if found["visitor_id"] != conn.visitor_id:
                raise NotFound(f"no conversation {frame.conversation_id!r}", code="conversation_not_found")
            conn.conversations.add(frame.conversation_id)
            self.channel_of[frame.conversation_id] = found["channel_id"]
        conversation = {
            "id": frame.conversation_id,
            "visitor_id": conn.visitor_id,
            "site_id": conn.site_id,
            # Only agents who may see the channel are told.
            "channel_id": self.channel_of[frame.conversation_id],
        }
        await actions.typing(
            self.services.bus,
            conversation=conversation,
            author=self.author(conn),
            active=frame.active,
        )

    async def page_view(self, conn: Connection, frame: PageViewFrame) -> None:
        page = frame.page
        visitor_id = _visitor_of(conn)
        await tracking.page_view(self.services.db, visitor_id=visitor_id, site_id=self.site.id, page=page)
        await self.services.proactive.page_loaded(conn, page)

    async def event_track(self, conn: Connection, frame: EventTrack) -> None:
        visitor_id = _visitor_of(conn)
        await tracking.event(
            self.services.db, visitor_id=visitor_id, site_id=self.site.id, name=frame.name, props=frame.props
        )
        await self.services.proactive.event(conn, frame.name)

    async def visitor_set(self, conn: Connection, frame: VisitorSet) -> None:
        visitor_id = _visitor_of(conn)
        merged = await contact_actions.set_attributes(
            self.services.db, visitor_id=visitor_id, attributes=frame.attributes
        )
        if conn.proactive is not None:
            conn.proactive.attributes = merged
            if "ref" in frame.attributes:
                conn.proactive.refs = await self.services.db.read(
                    lambda c: refs_for(c, contacts.visitor(c, visitor_id))
                )

    async def visitor_identify(self, conn: Connection, frame: VisitorIdentify) -> None:
        verified = False
        visitor_id = _visitor_of(conn)
        if frame.user_id is not None:
            verified = contacts.hash_valid(self.site.identity_secret, frame.user_id, frame.user_hash)
            if not verified and (
                frame.user_hash is not None or widget.settings_of(self.site)["require_identity"]
            ):
                # Refused whole: nothing of this call is stored.
                raise FrameError(
                    "identify needs user_hash = hex HMAC-SHA256 of user_id with the site's identity secret",
                    code="identity_unverified",
                )
        result = await merging.identify_visitor(
            self.services.db,
            self.services.bus,
            visitor_id=visitor_id,
            user_id=frame.user_id,
            name=frame.name,
            email=frame.email,
            phone=frame.phone,
            verified=verified,
        )
        visitor = result.visitor
        answer: dict[str, Any] = {
            "type": "visitor.identified",
            "visitor": contacts.visitor_public(visitor),
            "merged": result.merged,
        }
        if result.merged:
            # This browser is now that contact: reconnect with its token.
            answer["token"] = self.services.tokens.visitor_token(visitor.id, self.site.id)
        else:
            self.name = visitor.name
        await reply(self.services, conn, answer)

    async def proactive_opened(self, conn: Connection, frame: ProactiveSeen) -> None:
        await proactive.seen(self.services.db, _visitor_of(conn), frame.delivery_id, "opened_at")

    async def proactive_dismissed(self, conn: Connection, frame: ProactiveSeen) -> None:
        await proactive.seen(self.services.db, _visitor_of(conn), frame.delivery_id, "dismissed_at")

    async def proactive_reply(self, conn: Connection, frame: ProactiveReply) -> None:
        answer = await proactive.reply(
            self.services.db,
            self.services.bus,
            site_id=self.site.id,
            site_name=self.site.name,
            visitor_id=_visitor_of(conn),
            delivery_id=frame.delivery_id,
            name=frame.name,
            email=frame.email,
        )
        conn.conversations.add(answer["conversation_id"])
        await reply(self.services, conn, answer)


def _visitor_of(conn: Connection) -> str:
    assert conn.visitor_id is not None, "frames after hello only"
    return conn.visitor_id


def _public(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k not in ("site_id", "visitor_id")}
