"""HTML pages rendered by the server: the agent page (Jinja2, autoescaped)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.errors import Unauthorized
from server.services import services_of
from server.sites.store import first_site
from server.web.auth import csrf_token, signed_in, user_json
from server.web.templates import templates


async def agent_page(request: Request) -> Response:
    try:
        access = await signed_in(request)
    except Unauthorized:
        return RedirectResponse("/login?next=/agent", status_code=303)
    if not access.can("conversations"):
        denied = templates.get_template("proactive_denied.html").render(user=access.user)
        return HTMLResponse(denied, status_code=403)
    site = await services_of(request).db.read(first_site, None)
    html = templates.get_template("agent.html").render(
        user=user_json(access.user), sections=access.sections, csrf=csrf_token(request), site=site
    )
    return HTMLResponse(
        html,
        headers={
            # The workspace is never framed, and loads only its own code.
            "Content-Security-Policy": "default-src 'self'; img-src 'self' https: data:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin",
        },
    )
