"""Changes to a contact, committed. (Identify, which may merge conversations, is a
conversations action: server/conversations/merge.py.)"""

from __future__ import annotations

import asyncio
import codecs
from collections.abc import AsyncIterator
from typing import Any

from server.contacts import book, fields, imports, store
from server.contacts.book import Actor
from server.contacts.models import ContactImport, Visitor
from server.db import Database
from server.errors import InvalidInput, TooLarge


async def set_attributes(db: Database, *, visitor_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """Merge attributes into the contact's (null removes a key); returns them all."""
    return await db.write(lambda c: store.set_attributes(c, visitor_id=visitor_id, attributes=attributes))


async def add(db: Database, site_id: str, body: dict[str, Any], by: Actor, country: str | None) -> Visitor:
    """A contact added by hand (contact_exists when the email or phone is taken)."""
    return await db.write(lambda c: book.add(c, site_id, body, by, country))


async def change(
    db: Database, visitor_id: str, body: dict[str, Any], by: Actor, country: str | None
) -> Visitor:
    return await db.write(lambda c: book.change(c, visitor_id, body, by, country))


async def tag(db: Database, visitor_id: str, add: list[str], remove: list[str], by: Actor) -> list[str]:
    """Add and remove tags in one transaction; returns the contact's tags."""

    def step(conn: Any) -> list[str]:
        tags = book.tag(conn, visitor_id, add, by) if add else store.visitor(conn, visitor_id).tags
        return book.tag(conn, visitor_id, remove, by, remove=True) if remove else tags

    return await db.write(step)


async def upload(
    db: Database, *, site_id: str, user_id: str, filename: str, body: AsyncIterator[bytes]
) -> ContactImport:
    """Keep an uploaded CSV as it came (chunk by chunk, never whole in memory), then find
    how it reads: encoding, delimiter, headers and how many rows."""
    import_id = await db.write(
        lambda c: imports.create(c, site_id=site_id, user_id=user_id, filename=filename)
    )
    try:
        size, utf8_ok, sample = await _store(db, import_id, body)
    except BaseException:
        await db.write(lambda c: imports.forget(c, import_id))
        raise
    encoding = imports.encoding_of(sample, utf8_ok)
    delimiter = imports.delimiter_of(sample.decode(encoding.replace("-sig", ""), errors="replace"))

    def count() -> tuple[list[str], int]:
        rows = imports.records(
            lambda i, n: db.read_sync(imports.chunk_of, i, n), import_id, encoding, delimiter
        )
        headers = next(rows, [])
        return [h.strip() for h in headers], sum(1 for _ in rows)

    headers, total = await asyncio.to_thread(count)
    if not headers:
        await db.write(lambda c: imports.forget(c, import_id))
        raise InvalidInput("the file has no header row", code="import_empty")
    await db.write(
        lambda c: imports.described(
            c, import_id, size=size, encoding=encoding, delimiter=delimiter, headers=headers, rows_total=total
        )
    )
    return await db.read(lambda c: imports.load(c, import_id))


async def _store(db: Database, import_id: str, body: AsyncIterator[bytes]) -> tuple[int, bool, bytes]:
    size, n = 0, 0
    pending, sample = bytearray(), bytearray()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    async for piece in body:
        size += len(piece)
        if size > imports.MAX_BYTES:
            raise TooLarge(
                f"the file is over {imports.MAX_BYTES // (1024 * 1024)} MiB", code="import_too_large",
                limit=imports.MAX_BYTES,
            )  # fmt: skip
        if len(sample) < imports.SAMPLE_BYTES:
            sample += piece[: imports.SAMPLE_BYTES - len(sample)]
        if utf8_ok:
            try:
                utf8.decode(piece)
            except UnicodeDecodeError:
                utf8_ok = False
        pending += piece
        while len(pending) >= imports.CHUNK_BYTES:
            data, pending = bytes(pending[: imports.CHUNK_BYTES]), pending[imports.CHUNK_BYTES :]
            await db.write(lambda c, data=data, n=n: imports.put_chunk(c, import_id, n, data))
            n += 1
    if pending:
        data = bytes(pending)
        await db.write(lambda c: imports.put_chunk(c, import_id, n, data))
    if size == 0:
        raise InvalidInput("the file is empty", code="import_empty")
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    return size, utf8_ok, bytes(sample)


async def run_import(
    db: Database, import_id: str, *, mapping: dict[str, str], mode: str, keep_existing: bool, dry: bool
) -> ContactImport:
    """Queue a dry run or the import; the next free process takes it (server/contacts/runner.py)."""
    return await db.write(
        lambda c: imports.queue(
            c, import_id, mapping=mapping, mode=mode, keep_existing=keep_existing, dry=dry
        )
    )


async def define_field(db: Database, site_id: str, body: dict[str, Any]) -> fields.Field:
    """A new custom field (the caller then tells every process the site changed)."""
    return await db.write(lambda c: fields.define(c, site_id, body))


async def redefine_field(db: Database, site_id: str, key: str, body: dict[str, Any]) -> fields.Field:
    return await db.write(lambda c: fields.redefine(c, site_id, key, body))


async def undefine_field(db: Database, site_id: str, key: str) -> None:
    await db.write(lambda c: fields.undefine(c, site_id, key))
