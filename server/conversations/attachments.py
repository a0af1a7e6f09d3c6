"""Attachments: files uploaded by a visitor or an agent, then sent with a message.

An upload is stored whole (bytes in the database, so every server process
sees it and a backup keeps it) before any message refers to it; ``message.send``
then names up to ``MAX_PER_MESSAGE`` of the sender's own unsent uploads.
Downloads go by the attachment's id, 128 random bits: whoever was sent the
message can open it, and nobody can guess another. Types are an allowlist, and images and PDFs must
start with their format's signature, so a page or a script never passes as an image.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, insert, select, update

from server.conversations.models import Attachment, AttachmentBlob
from server.db import Database
from server.errors import InvalidInput, NotFound, ParleyError
from server.ids import new_id, utcnow

attachments = Attachment.__table__  # type: ignore[attr-defined]
blobs = AttachmentBlob.__table__  # type: ignore[attr-defined]

MAX_PER_MESSAGE = 5
# What may be uploaded, and how each format's bytes begin (None: text, checked as UTF-8).
TYPES: dict[str, tuple[bytes, ...] | None] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
    "text/plain": None,
}


class TooLarge(ParleyError):
    code = "attachment_too_large"
    http_status = 413


class UnsupportedType(ParleyError):
    code = "attachment_type"
    http_status = 415


def clean_name(raw: str | None) -> str:
    """A file name safe to show and to put in a header: no path, no control characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\"]", "", name).strip()[:200]
    return name or "file"


def check(data: bytes, content_type: str, max_bytes: int) -> str:
    """The upload's type after checking size, type and signature."""
    kind = content_type.split(";")[0].strip().lower()
    if len(data) > max_bytes:
        raise TooLarge(
            f"the file has {len(data)} bytes; the limit is {max_bytes}", limit=max_bytes, size=len(data)
        )
    if not data:
        raise InvalidInput("the file is empty", code="attachment_empty")
    if kind not in TYPES:
        raise UnsupportedType(
            f"files of type {kind or 'unknown'!r} are not accepted; send {', '.join(TYPES)}",
            allowed=list(TYPES),
        )
    signatures = TYPES[kind]
    if signatures is None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise UnsupportedType("a text/plain file must be UTF-8 text", allowed=list(TYPES)) from None
    elif not data.startswith(signatures) or (kind == "image/webp" and data[8:12] != b"WEBP"):
        raise UnsupportedType(
            f"the file is not a {kind} file (its first bytes do not match)", allowed=list(TYPES)
        )
    return kind


def store(
    conn: Connection,
    *,
    site_id: str,
    uploader_type: str,
    uploader_id: str,
    name: str,
    content_type: str,
    data: bytes,
) -> dict[str, Any]:
    row = {
        "id": new_id("att"),
        "site_id": site_id,
        "uploader_type": uploader_type,
        "uploader_id": uploader_id,
        "name": clean_name(name),
        "content_type": content_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "message_id": None,
        "created_at": utcnow(),
    }
    conn.execute(insert(attachments).values(row))
    conn.execute(insert(blobs).values(id=row["id"], data=data))
    return row


def public(row: dict[str, Any]) -> dict[str, Any]:
    """How an attachment appears inside a message."""
    return {k: row[k] for k in ("id", "name", "content_type", "size")}


def claim(
    conn: Connection, ids: list[str], *, uploader_type: str, uploader_id: str | None, message_id: str
) -> list[dict[str, Any]]:
    """Tie the sender's own unsent uploads to their message (in the message's transaction)."""
    if len(ids) > MAX_PER_MESSAGE:
        raise InvalidInput(
            f"a message takes at most {MAX_PER_MESSAGE} attachments", code="too_many_attachments"
        )
    if len(set(ids)) != len(ids):
        raise InvalidInput("an attachment is named twice", code="attachment_not_found")
    rows = {
        r["id"]: dict(r)
        for r in conn.execute(select(attachments).where(attachments.c.id.in_(ids))).mappings()
    }
    found = []
    for attachment_id in ids:
        row = rows.get(attachment_id)
        if (
            row is None
            or row["uploader_type"] != uploader_type
            or row["uploader_id"] != uploader_id
            or row["message_id"] is not None
        ):
            # Someone else's, already sent, or unknown: the same answer.
            raise NotFound(f"no unsent attachment {attachment_id!r} of yours", code="attachment_not_found")
        found.append(public(row))
    conn.execute(update(attachments).where(attachments.c.id.in_(ids)).values(message_id=message_id))
    return found


def url(item: dict[str, Any]) -> str:
    """The download path (as message frames give it): the id is 128 random bits, so only
    those sent the message can know it."""
    return f"/api/v1/attachments/{item['id']}/{quote(item['name'])}"


def download(conn: Connection, attachment_id: str) -> tuple[dict[str, Any], bytes]:
    row = conn.execute(select(attachments).where(attachments.c.id == attachment_id)).mappings().first()
    data = conn.execute(select(blobs.c.data).where(blobs.c.id == attachment_id)).scalar()
    if row is None or data is None:
        raise NotFound(f"no attachment {attachment_id!r}", code="attachment_not_found")
    return dict(row), bytes(data)


async def upload(db: Database, **fields: Any) -> dict[str, Any]:
    """Keep an upload (``fields`` as for ``store``) until a message claims it."""
    return await db.write(lambda c: store(c, **fields))
