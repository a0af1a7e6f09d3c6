"""High-level clients: a connection that survives drops without losing or doubling anything."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from websockets.exceptions import InvalidStatus

from parley_client.socket import Closed, Frame, Socket

log = logging.getLogger(__name__)

# Codes after which retrying the same frame cannot help; others are retried.
RETRYABLE = {"rate_limited", "internal_error", "database_unavailable"}
# The close code of a server process shutting down: reconnect at once, no backoff.
SERVER_SHUTDOWN = 1001
TOKEN_CODES = {"token_invalid", "token_expired", "token_wrong_site"}


class ClientError(Exception):
    def __init__(self, code: str, message: str, frame: Frame | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.frame = frame or {}


class ProtocolClient:
    """What the visitor and agent clients share: connect, resume, send once, heartbeat."""

    path = ""

    def __init__(
        self,
        base_url: str,
        *,
        origin: str | None = None,
        cursors: dict[str, int] | None = None,
        reconnect: bool = True,
        backoff: tuple[float, float] = (0.05, 5.0),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = origin
        self.cursors: dict[str, int] = dict(cursors or {})
        self.reconnect = reconnect
        self.backoff = backoff
        self.welcome: Frame | None = None
        self.conversations: dict[str, Frame] = {}
        # Sequenced events (each exactly once, in order per conversation) and typing.
        self.events: asyncio.Queue[Frame] = asyncio.Queue()
        self.errors: asyncio.Queue[Frame] = asyncio.Queue()
        self.outbox: dict[str, tuple[Frame, asyncio.Future[Frame]]] = {}
        self.connections = 0
        self.connected = asyncio.Event()
        self.socket: Socket | None = None
        self._fatal: BaseException | None = None
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._refetching: dict[str, list[Frame]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last_frame = time.monotonic()
        self.last_close: Closed | None = None
        self.attempts = 0  # connection attempts so far, successful or not

    # -- what subclasses provide ---------------------------------------------------

    def ws_url(self) -> str:
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}{self.path}"

    def headers(self) -> dict[str, str]:
        return {}

    def hello(self) -> Frame:
        return {"type": "hello", "cursors": self.cursors}

    def on_welcome(self, welcome: Frame) -> None:
        pass

    async def history_page(self, conversation_id: str, **params: int) -> Frame:
        raise NotImplementedError

    async def prepare(self) -> None:
        """Work before each connection attempt (an agent signs in here)."""

    # -- connecting ------------------------------------------------------------------

    async def connect(self, timeout: float = 10) -> Frame:
        self._closing = False
        self._fatal = None
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        waiter = asyncio.create_task(self.connected.wait())
        await asyncio.wait({waiter, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self._fatal is not None:
            raise self._fatal
        if not self.connected.is_set():
            raise TimeoutError("could not connect in time")
        assert self.welcome is not None
        return self.welcome

    async def close(self) -> None:
        self._closing = True
        if self.socket is not None:
            await self.socket.close()
        if self._task is not None:
            if self.socket is None:  # between connections, maybe in a backoff sleep: stop now
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, 5)
        for task in list(self._tasks):
            task.cancel()

    async def wait_closed(self, timeout: float = 10) -> Closed | None:
        """Wait until the client stops (only when it does not reconnect)."""
        if self._task is not None:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        return self.last_close

    async def drop(self) -> None:
        """Cut the connection as a network failure would; the client reconnects."""
        if self.socket is not None:
            await self.socket.ws.close(code=4000, reason="client drop")

    async def _run(self) -> None:
        delay = self.backoff[0]
        while not self._closing:
            try:
                await self.prepare()
                self.attempts += 1
                socket = await Socket.open(self.ws_url(), origin=self.origin, headers=self.headers())
                try:
                    await self._session(socket)
                    delay = self.backoff[0]
                finally:
                    self.connected.clear()
                    self.socket = None
                    with contextlib.suppress(Exception):
                        await socket.close()
            except InvalidStatus as exc:
                body = exc.response.body or b"{}"
                try:
                    info = json.loads(body)
                except ValueError:
                    info = {"code": "http_error", "message": body.decode(errors="replace")}
                self._fatal = ClientError(info.get("code", "http_error"), info.get("message", ""))
                return
            except ClientError as exc:
                self._fatal = exc
                return
            except Closed as exc:
                self.last_close = exc
                log.debug("connection closed: %r", exc)
                if exc.code == SERVER_SHUTDOWN:  # that process is going; another answers now
                    delay = self.backoff[0]
                    if self.reconnect and not self._closing:
                        continue
            except (OSError, TimeoutError) as exc:
                log.debug("connection lost: %r", exc)
            if not self.reconnect or self._closing:
                return
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, self.backoff[1])

    async def _session(self, socket: Socket) -> None:
        await socket.send(self.hello())
        while True:
            frame = await socket.recv()
            if frame["type"] == "welcome":
                break
            if frame["type"] == "error" and frame["code"] in TOKEN_CODES:
                self.on_token_rejected(frame)
                raise Closed(4401, frame["code"])
            if frame["type"] == "error":
                raise ClientError(frame["code"], frame["message"], frame)
        self.welcome = frame
        self.connections += 1
        for summary in frame.get("conversations", []):
            self.conversations[summary["id"]] = summary
            self.cursors.setdefault(summary["id"], summary["last_seq"])
        self.on_welcome(frame)
        self.socket = socket
        self._last_frame = time.monotonic()
        # Whatever was not acknowledged is sent again: the server's client-id
        # check turns a repeat into the original ack.
        for pending, _future in list(self.outbox.values()):
            await socket.send(pending)
        self.connected.set()
        heartbeat = asyncio.create_task(self._heartbeat(socket, float(frame.get("heartbeat_s", 25))))
        try:
            while True:
                self._dispatch(await socket.recv(timeout=3600))
                self._last_frame = time.monotonic()
        finally:
            heartbeat.cancel()

    async def _heartbeat(self, socket: Socket, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if time.monotonic() - self._last_frame > 2 * interval:
                await socket.ws.close(code=4000, reason="heartbeat lost")
                return
            with contextlib.suppress(Exception):
                await socket.send({"type": "ping", "ts": time.time()})

    # -- receiving -------------------------------------------------------------------

    def _dispatch(self, frame: Frame) -> None:
        kind = frame.get("type")
        if kind == "ack":
            entry = self.outbox.pop(frame["client_id"], None)
            if entry is not None and not entry[1].done():
                entry[1].set_result(frame)
        elif kind == "error":
            self._on_error(frame)
        elif kind == "pong":
            pass
        elif "seq" in frame and "conversation_id" in frame:
            buffered = self._refetching.get(frame["conversation_id"])
            if buffered is not None:
                buffered.append(frame)
            else:
                self._accept(frame)
        else:
            self.events.put_nowait(frame)

    def _accept(self, frame: Frame) -> None:
        conversation_id, seq = frame["conversation_id"], frame["seq"]
        if seq <= self.cursors.get(conversation_id, 0):
            return
        self.cursors[conversation_id] = seq
        self.events.put_nowait(frame)

    def _on_error(self, frame: Frame) -> None:
        client_id = frame.get("client_id")
        entry = self.outbox.get(client_id) if client_id else None
        if entry is not None:
            if frame["code"] in RETRYABLE:
                delay = frame.get("retry_after_ms", 500) / 1000
                self._spawn(self._resend(client_id, delay))  # type: ignore[arg-type]
                return
            self.outbox.pop(client_id)  # type: ignore[arg-type]
            if not entry[1].done():
                entry[1].set_exception(ClientError(frame["code"], frame["message"], frame))
            return
        if frame["code"] == "resync_required":
            self._spawn(self._refetch(frame["conversation_id"], frame))
            return
        self.errors.put_nowait(frame)

    async def _resend(self, client_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        entry = self.outbox.get(client_id)
        if entry is not None and self.socket is not None:
            with contextlib.suppress(Closed, Exception):
                await self.socket.send(entry[0])

    async def _refetch(self, conversation_id: str, frame: Frame) -> None:
        """The server could not replay: page the gap in over HTTP, then go live."""
        self._refetching[conversation_id] = []
        try:
            if frame.get("reason") == "ahead_of_server":
                self.cursors[conversation_id] = 0
            while True:
                page = await self.history_page(
                    conversation_id, after=self.cursors.get(conversation_id, 0), limit=200
                )
                for event in page["events"]:
                    self._accept(event)
                if not page["has_more"]:
                    break
        finally:
            for event in self._refetching.pop(conversation_id, []):
                self._accept(event)

    def on_token_rejected(self, frame: Frame) -> None:
        pass

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- sending ---------------------------------------------------------------------

    async def send(
        self, text: str, conversation_id: str | None = None, *, client_id: str | None = None
    ) -> Frame:
        """Send a message and wait for its ack; survives reconnects, never doubles."""
        return await self.send_nowait(text, conversation_id, client_id=client_id)

    def send_nowait(
        self,
        text: str,
        conversation_id: str | None = None,
        *,
        client_id: str | None = None,
        frame_type: str = "message.send",
    ) -> asyncio.Future[Frame]:
        client_id = client_id or uuid.uuid4().hex
        frame: Frame = {"type": frame_type, "client_id": client_id, "text": text}
        if conversation_id is not None:
            frame["conversation_id"] = conversation_id
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self.outbox[client_id] = (frame, future)
        if self.socket is not None:
            self._spawn(self._send_quietly(frame))
        return future

    async def _send_quietly(self, frame: Frame) -> None:
        socket = self.socket
        if socket is not None:
            with contextlib.suppress(Exception):  # a drop: the outbox resends it
                await socket.send(frame)

    async def mark_read(self, conversation_id: str, up_to_seq: int) -> None:
        await self.send_frame(
            {"type": "conversation.read", "conversation_id": conversation_id, "up_to_seq": up_to_seq}
        )

    async def typing(self, conversation_id: str, active: bool = True) -> None:
        await self.send_frame({"type": "typing.update", "conversation_id": conversation_id, "active": active})

    async def send_frame(self, frame: Frame) -> None:
        if self.socket is None:
            raise ClientError("not_connected", "not connected")
        await self.socket.send(frame)

    async def next_event(self, type_: str | None = None, timeout: float = 10) -> Frame:
        """The next event (of a type, skipping others)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await asyncio.wait_for(self.events.get(), max(0.001, deadline - loop.time()))
            if type_ is None or frame.get("type") == type_:
                return frame

    async def next_error(self, timeout: float = 10) -> Frame:
        return await asyncio.wait_for(self.errors.get(), timeout)


class VisitorClient(ProtocolClient):
    """A website visitor or a mobile app user."""

    path = "/ws/v1/visitor"

    def __init__(
        self,
        base_url: str,
        site_key: str,
        *,
        token: str | None = None,
        page: Frame | None = None,
        locale: str | None = None,
        timezone: str | None = None,
        kind: str = "sdk",
        **options: Any,
    ) -> None:
        super().__init__(base_url, **options)
        self.site_key = site_key
        self.token = token
        self.page = page
        self.locale = locale
        self.timezone = timezone
        self.kind = kind
        self.visitor: Frame | None = None

    def ws_url(self) -> str:
        return super().ws_url() + "?site=" + quote(self.site_key)

    def hello(self) -> Frame:
        frame: Frame = {
            "type": "hello",
            "site_key": self.site_key,
            "client": {"kind": self.kind, "version": "parley_client/0.1"},
            "cursors": self.cursors,
        }
        for key in ("token", "page", "locale", "timezone"):
            value = getattr(self, key)
            if value is not None:
                frame[key] = value
        return frame

    def on_welcome(self, welcome: Frame) -> None:
        self.token = welcome["token"]
        self.visitor = welcome["visitor"]

    def on_token_rejected(self, frame: Frame) -> None:
        # The protocol's rule: forget the identity and start as a new visitor.
        log.info("visitor token refused (%s); starting as a new visitor", frame["code"])
        self.token = None
        self.cursors.clear()

    # What an app reports: screens, events, attributes, identity (docs/protocol.md).
    async def screen(self, url: str, title: str | None = None) -> None:
        """A screen view (the mobile equivalent of a page view); proactive rules run on it."""
        self.page = {"url": url, **({"title": title} if title else {})}
        await self.send_frame({"type": "page.view", "page": self.page})

    async def track(self, name: str, **props: Any) -> None:
        await self.send_frame({"type": "event.track", "name": name, "props": props})

    async def set_attributes(self, **attributes: Any) -> None:
        await self.send_frame({"type": "visitor.set", "attributes": attributes})

    async def identify(self, **fields: str) -> None:
        """user_id, name, email, user_hash; the answer arrives as a ``visitor.identified`` event."""
        await self.send_frame({"type": "visitor.identify", **fields})

    async def history_page(self, conversation_id: str, **params: int) -> Frame:
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            response = await http.get(
                f"/api/v1/visitor/conversations/{conversation_id}/events",
                params={"site": self.site_key, **params},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        data: Frame = response.json()
        if response.status_code != 200:
            raise ClientError(data.get("code", "http_error"), data.get("message", ""))
        return data


class AgentClient(ProtocolClient):
    """An agent, signed in with email and password (or an existing session cookie)."""

    path = "/ws/v1/agent"

    def __init__(self, base_url: str, email: str, password: str, **options: Any) -> None:
        super().__init__(base_url, **options)
        self.email = email
        self.password = password
        self.session: str | None = None
        # Sent as X-CSRF-Token with every state-changing HTTP request of the session.
        self.csrf_token: str | None = None
        self.user: Frame | None = None

    async def prepare(self) -> None:
        if self.session is None:
            self.session, self.csrf_token = await sign_in(self.base_url, self.email, self.password)

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"parley_session={self.session}"} if self.session else {}

    def on_welcome(self, welcome: Frame) -> None:
        self.user = welcome["user"]

    async def note(self, text: str, conversation_id: str, *, client_id: str | None = None) -> Frame:
        """An internal note (agents only); resent like a message until acked."""
        return await self.send_nowait(text, conversation_id, client_id=client_id, frame_type="note.add")

    async def update(self, conversation_id: str, **changes: Any) -> None:
        """Change status, snooze (snoozed_until, ISO) or assignee (assignee_id=None unassigns)."""
        await self.send_frame({"type": "conversation.update", "conversation_id": conversation_id, **changes})

    async def history_page(self, conversation_id: str, **params: int) -> Frame:
        async with httpx.AsyncClient(base_url=self.base_url, headers=self.headers()) as http:
            response = await http.get(f"/api/v1/conversations/{conversation_id}/events", params=params)
        data: Frame = response.json()
        if response.status_code != 200:
            raise ClientError(data.get("code", "http_error"), data.get("message", ""))
        return data


async def login(base_url: str, email: str, password: str) -> str:
    """Sign in over HTTP; returns the session cookie's value."""
    return (await sign_in(base_url, email, password))[0]


async def sign_in(base_url: str, email: str, password: str) -> tuple[str, str]:
    """Sign in over HTTP; returns the session cookie's value and the session's CSRF token."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post("/api/v1/auth/login", json={"email": email, "password": password})
    data = response.json()
    if response.status_code != 200:
        raise ClientError(data.get("code", "http_error"), data.get("message", ""))
    session = response.cookies.get("parley_session")
    assert session is not None
    return session, data["csrf_token"]
