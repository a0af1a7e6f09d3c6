"""Taking an import's rows, a batch at a time, as a dry run that only counts or for real
(server/contacts/imports.py reads the file and keeps the job).

Each row is checked as "Add contact" checks it, matched to a contact by user id, then
email, then E.164 phone (earlier rows of the same file included), and added, updated or
skipped by the mode. A batch's contacts are looked up at once and its new contacts,
search terms, history and rejected rows written with one INSERT each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, update

from server.contacts import book, fields
from server.contacts.book import Actor
from server.contacts.fields import Field
from server.contacts.imports import imports, rejects
from server.contacts.models import ContactImport, Visitor
from server.contacts.search import index_visitor, terms, terms_of
from server.contacts.store import visitors
from server.errors import InvalidInput
from server.ids import new_id, utcnow

BATCH = 500  # rows per transaction


@dataclass
class Seen:
    """A dry run's memory of the keys earlier rows of the file would have added: ``keys``
    from committed batches, ``pending`` from the batch being taken."""

    keys: set[str] = field(default_factory=set)
    pending: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Row:
    number: int  # 1 is the first row after the headers
    cells: list[str]


def take(conn: Connection, imp: ContactImport, batch: list[Row], country: str | None, seen: Seen,
         lease_until: Any) -> tuple[dict[str, Any], set[str]]:  # fmt: skip
    """One batch of rows in one transaction; returns the import's counts after it, and the
    keys a dry run saw in it (the caller keeps them once this commits: a write may run twice).

    The batch's contacts are looked up at once (by user id, email, phone) and its new
    contacts, search terms and history written with one INSERT each."""
    seen.pending = set()
    counts: dict[str, Any] = {
        "added": 0,
        "updated": 0,
        "skipped": 0,
        "rejected": 0,
        "reasons": {},
        **imp.counts,
    }
    counts["reasons"] = dict(counts.get("reasons") or {})
    defined = {f.key: f for f in fields.definitions(conn, imp.site_id)}
    parsed = [(row, _parse(imp, row, country, defined)) for row in batch]
    known = Known.lookup(conn, imp.site_id, [p for _, p in parsed if isinstance(p, Parsed)])
    writes = Writes(Actor("import", imp.id, imp.filename))
    for row, p in parsed:
        outcome: str
        reason: str | None
        if isinstance(p, str):
            outcome, reason = "rejected", p
        elif imp.dry:
            hit = any(k in seen.keys or k in seen.pending for k in p.keys) or known.find(p) is not None
            outcome, reason = _decide(imp.mode, hit)
            if outcome == "added":
                seen.pending.update(p.keys)  # later rows with these keys update this one
        else:
            outcome, reason = _apply(conn, imp, p, known, writes)
        counts[outcome] += 1
        if reason:
            counts["reasons"][reason] = counts["reasons"].get(reason, 0) + 1
            if outcome == "rejected":
                writes.rejects.append(
                    {"import_id": imp.id, "row": row.number, "reason": reason, "cells": row.cells}
                )
    writes.flush(conn)
    conn.execute(
        update(imports)
        .where(imports.c.id == imp.id)
        .values(rows_done=imp.rows_done + len(batch), counts=counts, lease_until=lease_until)
    )
    return counts, seen.pending


@dataclass
class Parsed:
    """A row's values, checked."""

    name: str | None
    email: str | None
    phone: str | None
    user_id: str | None
    tags: list[str]
    attributes: dict[str, Any]

    @property
    def keys(self) -> list[str]:
        found = [f"u:{self.user_id}" if self.user_id else "", f"e:{self.email.lower()}" if self.email else ""]
        return [k for k in [*found, f"p:{self.phone}" if self.phone else ""] if k]


def _parse(imp: ContactImport, row: Row, country: str | None, defined: dict[str, Field]) -> Parsed | str:
    """The row's values by the mapping, checked; or why it is rejected."""
    values: dict[str, Any] = {}
    tags: list[str] = []
    attributes: dict[str, Any] = {}
    for key, target in imp.mapping.items():
        cell = row.cells[int(key)].strip() if int(key) < len(row.cells) else ""
        if not cell or target == "ignore":
            continue
        if target == "tags":
            tags += [t.strip() for t in re.split(r"[,;|]", cell) if t.strip()]
        elif target.startswith("attribute:"):
            attributes[target.removeprefix("attribute:")] = cell[:1000]
        else:
            values[target] = cell
    name = values.get("name") or " ".join(v for v in (values.get("first_name"), values.get("last_name")) if v)
    try:
        email = book.clean_email(values.get("email"))
        phone = book.clean_phone(values.get("phone"), country)
        clean = book.clean_name(name)
        tags = [book.clean_tag(t) for t in dict.fromkeys(tags)]
        attributes = fields.typed(list(defined.values()), attributes)
    except InvalidInput as exc:
        return exc.message[:300]
    user_id = (values.get("user_id") or "")[:255] or None
    if not (clean or email or phone or user_id):
        return "no name, email, phone or user id"
    return Parsed(clean, email, phone, user_id, tags, attributes)


@dataclass
class Known:
    """The site's contacts a batch's rows may be: by user id, email (lower case) and phone."""

    by_key: dict[str, Visitor] = field(default_factory=dict)

    @classmethod
    def lookup(cls, conn: Connection, site_id: str, rows: list[Parsed]) -> Known:
        known = cls()
        found = book.candidates(
            conn,
            site_id,
            user_ids={r.user_id for r in rows if r.user_id},
            emails={r.email for r in rows if r.email},
            phones={r.phone for r in rows if r.phone},
        )
        wanted = {k for r in rows for k in r.keys}
        for contact in reversed(found):  # newest first, so the oldest wins a key
            for key in _keys_of(contact):
                if key in wanted:
                    known.by_key[key] = contact
        return known  # fmt: skip

    def find(self, p: Parsed) -> Visitor | None:
        return next((self.by_key[k] for k in p.keys if k in self.by_key), None)

    def put(self, contact: Visitor) -> None:
        for key in _keys_of(contact):
            self.by_key[key] = contact


def _keys_of(v: Visitor) -> list[str]:
    return [k for k in (f"u:{v.user_id}" if v.user_id else "", f"e:{v.email.lower()}" if v.email else "",
                        f"p:{v.phone}" if v.phone else "") if k]  # fmt: skip


@dataclass
class Writes:
    """What a batch adds, written at its end with one INSERT per table."""

    by: Actor
    new: dict[str, Visitor] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def change(self, visitor_id: str, name: str, old: Any, new: Any) -> None:
        self.history.append({"id": new_id("chg"), "visitor_id": visitor_id, "actor_type": self.by.type,
                             "actor_id": self.by.id, "actor_name": self.by.name, "field": name, "old": old,
                             "new": new, "at": utcnow()})  # fmt: skip

    def flush(self, conn: Connection) -> None:
        if self.new:
            conn.execute(insert(visitors), [v.model_dump() for v in self.new.values()])
            rows = [
                {"term": t, "visitor_id": v.id}
                for v in self.new.values()
                for t in terms_of(v.name, v.email, v.phone)
            ]
            if rows:
                conn.execute(insert(terms), rows)
        if self.history:
            conn.execute(insert(book.changes), self.history)
        if self.rejects:
            conn.execute(insert(rejects), self.rejects)


def _apply(
    conn: Connection, imp: ContactImport, p: Parsed, known: Known, writes: Writes
) -> tuple[str, str | None]:
    found = known.find(p)
    outcome, reason = _decide(imp.mode, found is not None)
    if outcome == "skipped":
        return outcome, reason
    if found is None:
        now = utcnow()
        contact = Visitor(site_id=imp.site_id, name=p.name, email=p.email, phone=p.phone, user_id=p.user_id,
                          phone_digits=re.sub(r"\D", "", p.phone or "")[:20] or None, attributes=p.attributes,
                          tags=p.tags, created_at=now, last_seen_at=now, listed_at=now)  # fmt: skip
        writes.new[contact.id] = contact
        known.put(contact)
        writes.change(contact.id, "created", None, {"name": p.name, "email": p.email, "phone": p.phone})
        return "added", None
    values = _changes(found, p, imp.keep_existing)
    if not values:
        return "skipped", "nothing new"
    for key in ("name", "email", "phone", "tags"):
        if key in values:
            writes.change(found.id, key, getattr(found, key), values[key])
    changed = found.model_copy(update=values)
    known.put(changed)
    if found.id in writes.new:
        writes.new[found.id] = changed  # added by this batch: written once, as it ends up
    else:
        conn.execute(update(visitors).where(visitors.c.id == found.id).values(**values))
        if {"name", "email", "phone"} & set(values):
            index_visitor(conn, found.id, changed.name, changed.email, changed.phone)
    return "updated", None


def _decide(mode: str, known: bool) -> tuple[str, str | None]:
    if known and mode == "add":
        return "skipped", "already a contact (add only)"
    if not known and mode == "update":
        return "skipped", "not a contact yet (update only)"
    return ("updated" if known else "added"), None


def _changes(found: Visitor, p: Parsed, keep: bool) -> dict[str, Any]:
    """What the row changes on the contact (keep: not the values it has)."""
    values: dict[str, Any] = {}
    for key in ("name", "email", "phone", "user_id"):
        new, old = getattr(p, key), getattr(found, key)
        same = (new or "").lower() == (old or "").lower() if key == "email" else new == old
        if new and not same and not (keep and old):
            values[key] = new
    if "phone" in values:
        values["phone_digits"] = re.sub(r"\D", "", values["phone"])[:20] or None
    attributes = dict(found.attributes)
    for key, value in p.attributes.items():
        if not (keep and key in attributes):
            attributes[key] = value
    if attributes != found.attributes:
        values["attributes"] = attributes
    tags = list(dict.fromkeys([*found.tags, *p.tags]))[: book.MAX_TAGS]
    if tags != found.tags:
        values["tags"] = tags
    if found.listed_at is None:
        values["listed_at"] = utcnow()
    return values
