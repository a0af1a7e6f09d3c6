"""Signed tokens: the visitor token and the agent session cookie.

Both are itsdangerous timed signatures over a tiny JSON payload, each with its
own salt so one can never be replayed as the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from server.errors import Unauthorized


@dataclass(frozen=True)
class VisitorClaim:
    visitor_id: str
    site_id: str


@dataclass(frozen=True)
class SessionClaim:
    user_id: str
    session_version: int
    # The sign-in (accounts' sessions table); cookies from before it existed have none.
    session_id: str


class Tokens:
    def __init__(self, secret_key: str, visitor_max_age_s: int, session_max_age_s: int) -> None:
        self._visitor = URLSafeTimedSerializer(secret_key, salt="parley.visitor.v1")
        self._session = URLSafeTimedSerializer(secret_key, salt="parley.session.v1")
        self.visitor_max_age_s = visitor_max_age_s
        self.session_max_age_s = session_max_age_s

    def visitor_token(self, visitor_id: str, site_id: str) -> str:
        return self._visitor.dumps({"v": visitor_id, "s": site_id})

    def read_visitor_token(self, token: str, site_id: str) -> VisitorClaim:
        try:
            data = self._visitor.loads(token, max_age=self.visitor_max_age_s)
        except SignatureExpired:
            raise Unauthorized("the visitor token has expired", code="token_expired") from None
        except BadSignature:
            raise Unauthorized("the visitor token is not valid", code="token_invalid") from None
        if not isinstance(data, dict) or not isinstance(data.get("v"), str):
            raise Unauthorized("the visitor token is not valid", code="token_invalid")
        if data.get("s") != site_id:
            raise Unauthorized("the visitor token belongs to another site", code="token_wrong_site")
        return VisitorClaim(visitor_id=data["v"], site_id=site_id)

    def session_token(self, user_id: str, session_version: int, session_id: str) -> str:
        return self._session.dumps({"u": user_id, "sv": session_version, "s": session_id})

    def read_session_token(self, token: str) -> SessionClaim:
        try:
            data = self._session.loads(token, max_age=self.session_max_age_s)
        except BadSignature:  # SignatureExpired is a BadSignature too
            raise Unauthorized("not signed in", code="not_authenticated") from None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("u"), str)
            or not isinstance(data.get("s"), str)
        ):
            raise Unauthorized("not signed in", code="not_authenticated")
        return SessionClaim(user_id=data["u"], session_version=int(data.get("sv", 0)), session_id=data["s"])
