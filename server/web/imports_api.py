"""CSV imports of contacts over HTTP (admins only; agents never see them): upload the
file as it is, read how it was understood and its first rows, run a dry run or the
import with a mapping and a mode, follow its progress, download the rejected rows."""

from __future__ import annotations

import asyncio
from itertools import islice
from typing import Any
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.contacts import actions, imports
from server.errors import InvalidInput
from server.services import services_of
from server.web.auth import read_object, signed_in

SAMPLE_ROWS = 5


async def _admin(request: Request) -> Any:
    access = await signed_in(request)
    access.require_admin("import contacts")
    return access


async def upload_api(request: Request) -> Response:
    """POST the CSV as the body (any encoding), its name in X-Filename (URL-encoded)."""
    access = await _admin(request)
    services = services_of(request)
    site = await services.sites.known(request.path_params["key"])
    made = await actions.upload(
        services.db,
        site_id=site.id,
        user_id=access.user.id,
        filename=unquote(request.headers.get("x-filename", "")) or "import.csv",
        body=request.stream(),
    )
    return JSONResponse(await _described(request, made.id), status_code=201)


async def import_api(request: Request) -> Response:
    """GET: the import, how its file reads (with its first rows), and its progress."""
    await _admin(request)
    return JSONResponse(await _described(request, request.path_params["id"]))


async def _described(request: Request, import_id: str) -> dict[str, Any]:
    db = services_of(request).db
    imp = await db.read(lambda c: imports.load(c, import_id))

    def sample() -> list[list[str]]:
        rows = imports.records(
            lambda i, n: db.read_sync(imports.chunk_of, i, n), imp.id, imp.encoding, imp.delimiter
        )
        next(rows, None)
        return list(islice(rows, SAMPLE_ROWS))

    first = await asyncio.to_thread(sample) if imp.status != "uploading" else []
    return {"import": imports.public(imp), "sample": first, "fields": list(imports.FIELDS)}


async def run_api(request: Request) -> Response:
    """POST {mapping, mode, keep_existing, dry}: queue a dry run (dry: true) or the import."""
    await _admin(request)
    services = services_of(request)
    import_id = request.path_params["id"]
    body = await read_object(request)
    imp = await services.db.read(lambda c: imports.load(c, import_id))
    mapping = imports.check_mapping(imp, body.get("mapping", imp.mapping))
    mode = body.get("mode", "upsert")
    if mode not in imports.MODES:
        raise InvalidInput(f"mode: one of {', '.join(imports.MODES)}", code="invalid_mapping", field="mode")
    keep, dry = body.get("keep_existing", False), body.get("dry", True)
    if not isinstance(keep, bool) or not isinstance(dry, bool):
        raise InvalidInput("keep_existing and dry are true or false", code="invalid_mapping", field="dry")
    await actions.run_import(services.db, import_id, mapping=mapping, mode=mode, keep_existing=keep, dry=dry)
    services.scheduler.nudge()
    return JSONResponse(await _described(request, import_id), status_code=202)


async def rejected_api(request: Request) -> Response:
    """GET the rejected rows as CSV: the reason and row number, then the file's columns."""
    await _admin(request)
    db = services_of(request).db
    import_id = request.path_params["id"]
    imp = await db.read(lambda c: imports.load(c, import_id))
    rows = await db.read(lambda c: imports.rejected(c, import_id))
    name = imp.filename.rsplit(".", 1)[0] + "-rejected.csv"
    return Response(
        imports.rejected_csv(rows, imp.headers),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )
