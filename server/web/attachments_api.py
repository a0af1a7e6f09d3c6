"""Uploading and downloading attachments (server/conversations/attachments.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.conversations import attachments, queries
from server.errors import ParleyError
from server.services import services_of
from server.web.auth import signed_in
from server.web.history import preflight, visitor_on_site


async def _body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused as soon as it grows past the limit (nothing is kept)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise attachments.TooLarge(
            f"the file has {declared} bytes; the limit is {max_bytes}", limit=max_bytes, size=int(declared)
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise attachments.TooLarge(f"the file is over the limit of {max_bytes} bytes", limit=max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def _upload(request: Request, *, site_id: str, uploader_type: str, uploader_id: str) -> dict[str, Any]:
    services = services_of(request)
    limit = services.settings.max_attachment_bytes
    data = await _body(request, limit)
    kind = attachments.check(data, request.headers.get("content-type", ""), limit)
    name = unquote(request.headers.get("x-filename", ""))
    row = await attachments.upload(
        services.db,
        site_id=site_id,
        uploader_type=uploader_type,
        uploader_id=uploader_id,
        name=name,
        content_type=kind,
        data=data,
    )
    item = attachments.public(row)
    return {**item, "url": attachments.url(item)}


async def agent_upload(request: Request) -> Response:
    """``POST /api/v1/conversations/{id}/attachments``: the raw file as the body,
    its type as Content-Type, its name in X-Filename (URL-encoded)."""
    access = await signed_in(request, "conversations")
    conversation = await services_of(request).db.read(queries.conversation, request.path_params["id"])
    access.check(conversation)
    item = await _upload(
        request, site_id=conversation["site_id"], uploader_type="agent", uploader_id=access.user.id
    )
    return JSONResponse(item, status_code=201)


async def visitor_upload(request: Request) -> Response:
    """``POST /api/v1/visitor/attachments?site=KEY`` with the visitor's token."""
    if request.method == "OPTIONS":
        return preflight(request, "POST", "Authorization, Content-Type, X-Filename")
    site, visitor_id, headers = await visitor_on_site(request)
    try:
        item = await _upload(request, site_id=site.id, uploader_type="visitor", uploader_id=visitor_id)
    except ParleyError as exc:  # with the CORS headers, so the widget can say why
        return JSONResponse(exc.as_dict(), status_code=exc.http_status, headers=headers)
    return JSONResponse(item, status_code=201, headers=headers)


async def download(request: Request) -> Response:
    """The file, never rendered by the browser as a page: images inline, the rest as a download."""
    row, data = await services_of(request).db.read(attachments.download, request.path_params["id"])
    inline = row["content_type"].startswith("image/")
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        media_type=row["content_type"],
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{_quoted(row['name'])}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=31536000, immutable",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


def _quoted(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
