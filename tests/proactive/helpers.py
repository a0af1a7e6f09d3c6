"""An admin's HTTP session and shortcuts for proactive messages."""

from __future__ import annotations

from typing import Any

import httpx

from server.sites.models import Site
from tests.harness import Stack
from tests.helpers import sign_in


class Admin:
    def __init__(self, stack: Stack, http: httpx.AsyncClient) -> None:
        self.stack = stack
        self.http = http

    @classmethod
    async def login(cls, stack: Stack, url: str | None = None) -> Admin:
        email, password = stack.create_agent(role="admin")
        http = httpx.AsyncClient(base_url=url or stack.agent_url)
        await sign_in(http, email, password)
        return cls(stack, http)

    async def close(self) -> None:
        await self.http.aclose()

    async def web_channel(self, site: Site) -> str:
        found = (await self.http.get(f"/api/v1/sites/{site.key}/channels")).json()["channels"]
        return next(c["id"] for c in found if c["kind"] == "web")

    async def create(self, site: Site, **fields: Any) -> dict[str, Any]:
        body = {
            "name": "Test message",
            "text": "Hello there",
            "channel_id": await self.web_channel(site),
            "trigger": {"type": "page_load"},
            **fields,
        }
        made = await self.http.post(f"/api/v1/sites/{site.key}/proactive", json=body)
        assert made.status_code == 201, made.text
        return dict(made.json())

    async def act(self, message_id: str, action: str) -> httpx.Response:
        return await self.http.post(f"/api/v1/proactive/{message_id}/{action}")

    async def live(self, site: Site, **fields: Any) -> dict[str, Any]:
        made = await self.create(site, **fields)
        published = await self.act(made["id"], "publish")
        assert published.status_code == 200, published.text
        return dict(published.json())

    async def message(self, message_id: str) -> dict[str, Any]:
        return dict((await self.http.get(f"/api/v1/proactive/{message_id}")).json())
