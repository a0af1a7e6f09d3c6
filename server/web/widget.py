"""Serving the widget: the loader, its versioned chunks, and each site's config.

The loader (``/widget.js``) sits at a fixed address in every host page, so it
is cached briefly and revalidated by ETag. It names the chunks by content
hash (``/widget/v/HASH/core.js``), so those are cached for a year and never
change under a page. Everything is minified once at start-up and kept in
memory as plain, gzip and brotli bodies.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import brotli
import rjsmin
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.conversations.availability import team_card
from server.errors import Forbidden, NotFound
from server.ids import utcnow
from server.services import services_of
from server.sites import widget as widget_settings
from server.sites.origins import origin_allowed

SOURCE = Path(__file__).resolve().parents[2] / "widget"
CHUNKS = ("core", "panel")
LOADER_MAX_AGE = 300
YEAR = 31_536_000


@dataclass(frozen=True)
class Asset:
    plain: bytes
    gzip: bytes
    br: bytes
    etag: str
    version: str

    @classmethod
    def of(cls, text: str) -> Asset:
        plain = rjsmin.jsmin(text).encode()
        digest = hashlib.sha256(plain).hexdigest()
        return cls(
            plain=plain,
            gzip=gzip.compress(plain, compresslevel=9, mtime=0),
            br=brotli.compress(plain, quality=11),
            etag=f'"{digest[:20]}"',
            version=digest[:12],
        )


@dataclass(frozen=True)
class WidgetAssets:
    loader: Asset
    chunks: dict[str, Asset]

    @classmethod
    def build(cls, source: Path = SOURCE) -> WidgetAssets:
        chunks = {name: Asset.of((source / f"{name}.js").read_text()) for name in CHUNKS}
        loader = (source / "loader.js").read_text()
        for name, asset in chunks.items():
            loader = loader.replace(f"__{name.upper()}__", f"/widget/v/{asset.version}/{name}.js")
        return cls(loader=Asset.of(loader), chunks=chunks)


_assets: WidgetAssets | None = None


def assets() -> WidgetAssets:
    global _assets
    if _assets is None:
        _assets = WidgetAssets.build()
    return _assets


def _send(request: Request, asset: Asset, cache: str) -> Response:
    headers = {
        "Cache-Control": cache,
        "ETag": asset.etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
        # Any page may fetch the script; what it may do is decided by the
        # config endpoint and the socket, which check the site's domains.
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Access-Control-Allow-Origin": "*",
        "Timing-Allow-Origin": "*",  # lets the host page see the widget's real transfer sizes
    }
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    accepted = {part.split(";")[0].strip() for part in request.headers.get("accept-encoding", "").split(",")}
    body = asset.plain
    if "br" in accepted:
        body, headers["Content-Encoding"] = asset.br, "br"
    elif "gzip" in accepted:
        body, headers["Content-Encoding"] = asset.gzip, "gzip"
    return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)


async def loader(request: Request) -> Response:
    return _send(request, assets().loader, f"public, max-age={LOADER_MAX_AGE}, stale-while-revalidate=86400")


async def chunk(request: Request) -> Response:
    found = assets().chunks.get(request.path_params["name"].removesuffix(".js"))
    if found is None or not request.path_params["name"].endswith(".js"):
        raise NotFound("no such widget file", code="not_found")
    if request.path_params["version"] == found.version:
        return _send(request, found, f"public, max-age={YEAR}, immutable")
    # A page still holding an older loader: give it today's code, briefly.
    return _send(request, found, "public, max-age=60")


async def config(request: Request) -> Response:
    """The site's public widget settings, for pages on its allowed domains only."""
    services = services_of(request)
    site = await services.sites.by_key(request.query_params.get("site", ""))
    if site is None:
        raise NotFound("no site has that key; check data-site on the script tag", code="site_unknown")
    origin = request.headers.get("origin")
    headers = {"Vary": "Origin", "Cache-Control": "no-cache"}
    if origin is not None:
        if not origin_allowed(origin, site.allowed_domains):
            raise Forbidden(
                f"{origin!r} may not embed this site's widget; add its domain to the site",
                code="origin_not_allowed",
            )
        headers["Access-Control-Allow-Origin"] = origin
    card = await services.db.read(lambda conn: team_card(conn, site, utcnow()))
    return JSONResponse(widget_settings.public_settings(site) | card, headers=headers)
