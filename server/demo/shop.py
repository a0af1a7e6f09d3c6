"""The demo shop: a small multi-page site that embeds the widget from a Parley server.

Served on its own port, so the widget runs cross-origin as it does on a real
customer's site. ``parley demo`` starts it next to the server; tests start it
with ``parley demo-site``.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

SOURCE = Path(__file__).resolve().parents[2] / "demo_site"
PAGES = {"": "home", "pricing": "pricing", "product": "product", "checkout": "checkout", "app": "app"}


def create_demo_site(parley_url: str, site_key: str) -> Starlette:
    env = Environment(loader=FileSystemLoader(SOURCE), autoescape=select_autoescape(default=True))

    async def page(request: Request) -> Response:
        name = PAGES.get(request.path_params.get("page", ""))
        if name is None:
            raise HTTPException(404, "no such page")
        html = env.get_template(f"{name}.html").render(
            parley_url=parley_url.rstrip("/"),
            site_key=request.query_params.get("site", site_key),
            page=name,
            hostile="hostile" in request.query_params,
            widget="nowidget" not in request.query_params,  # the bare page, for baselines
            locale=request.query_params.get("locale", ""),
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-cache"})

    return Starlette(
        routes=[
            Route("/", page),
            Mount("/static", StaticFiles(directory=SOURCE / "static")),
            Route("/{page}", page),
        ]
    )
