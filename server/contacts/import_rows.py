"""Taking an import's rows, a batch at a time, as a dry run that only counts or for real
(server/contacts/imports.py reads the file and keeps the job).

Each row is checked as "Add contact" checks it, matched to a contact by user id, then
email, then E.164 phone (earlier rows of the same file included), and added, updated or
skipped by the mode. A batch's contacts are looked up at once and its new contacts,
search terms, history and rejected rows written with one INSERT each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, update

from server.contacts import book, fields
from server.contacts.book import Actor
from server.contacts.fields import Field
from server.contacts.imports import imports, rejects
from server.contacts.models import ContactImport, Visitor
from server.contacts.search import index_many, next_rows, reindex_many, trigrams
from server.contacts.store import visitors
from server.db.bulk import insert_many, update_many
from server.errors import InvalidInput
from server.ids import new_id, utcnow

BATCH = 1000  # rows per transaction: the one writer is held a tenth of a second or so


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


def parse(imp: ContactImport, batch: list[Row], country: str | None, defined: list[Field]) -> list[Taken]:
    """A batch's rows checked (outside the write transaction: half an import's time is
    email-validator and phonenumbers, and the one writer need not wait for it)."""
    by_key = {f.key: f for f in defined}
    return [(row, _parse(imp, row, country, by_key)) for row in batch]


Taken = tuple[Row, "Parsed | str"]


def take(conn: Connection, imp: ContactImport, parsed: list[Taken], seen: Seen,
         lease_until: Any) -> tuple[dict[str, Any], set[str]]:  # fmt: skip
    """One batch of parsed rows in one transaction; returns the import's counts after it,
    and the keys a dry run saw in it (the caller keeps them once this commits: a write may
    run twice).

    The batch's contacts are looked up at once (by user id, email, phone) and its new
    contacts, search entries and history written with one INSERT each."""
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
    known = Known.lookup(conn, imp.site_id, [p for _, p in parsed if isinstance(p, Parsed)])
    writes = Writes(
        Actor("import", imp.id, imp.filename),
        first_row=next_rows(conn, len(parsed)) if trigrams(conn) else None,
    )
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
        .values(rows_done=imp.rows_done + len(parsed), counts=counts, lease_until=lease_until)
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

    by_key: dict[str, Visitor | Draft] = field(default_factory=dict)

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

    def find(self, p: Parsed) -> Visitor | Draft | None:
        return next((self.by_key[k] for k in p.keys if k in self.by_key), None)

    def put(self, contact: Visitor | Draft) -> None:
        for key in _keys_of(contact):
            self.by_key[key] = contact


def _keys_of(v: Visitor | Draft) -> list[str]:
    return [k for k in (f"u:{v.user_id}" if v.user_id else "", f"e:{v.email.lower()}" if v.email else "",
                        f"p:{v.phone}" if v.phone else "") if k]  # fmt: skip


@dataclass
class Draft:
    """A contact this batch adds: what is written at its end (a Visitor costs a quarter
    of a millisecond to build; a batch adds hundreds)."""

    id: str
    site_id: str
    name: str | None
    email: str | None
    phone: str | None
    phone_digits: str | None
    user_id: str | None
    tags: list[str]
    attributes: dict[str, Any]
    created_at: datetime
    search_row: int | None
    listed_at: datetime | None = None
    added_by: str | None = None  # the import (its history entry: book.history)

    def model_copy(self, update: dict[str, Any]) -> Draft:
        return replace(self, **update)

    def row(self) -> dict[str, Any]:
        return {
            **DEFAULTS,
            **{k: getattr(self, k) for k in DRAFTED},
            "last_seen_at": self.created_at,
        }


DRAFTED = ("id", "site_id", "name", "email", "phone", "phone_digits", "user_id", "tags", "attributes",
           "created_at", "listed_at", "search_row", "added_by")  # fmt: skip
# The rest of a new contact's columns, as the model's defaults make them.
DEFAULTS = {
    k: v
    for k, v in Visitor(site_id="-", created_at=datetime(2000, 1, 1, tzinfo=UTC)).model_dump().items()
    if k not in (*DRAFTED, "last_seen_at")
}


@dataclass
class Writes:
    """What a batch adds, written at its end with one INSERT per table."""

    by: Actor
    new: dict[str, Draft] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    # Contacts the batch changes: how each ends up, and every column it changed.
    updated: dict[str, tuple[Visitor, dict[str, Any]]] = field(default_factory=dict)
    first_row: int | None = None  # the batch's first search row (SQLite), None elsewhere

    def next_row(self) -> int | None:
        if self.first_row is None:
            return None
        self.first_row += 1
        return self.first_row - 1

    def change(self, visitor_id: str, name: str, old: Any, new: Any) -> None:
        self.history.append({"id": new_id("chg"), "visitor_id": visitor_id, "actor_type": self.by.type,
                             "actor_id": self.by.id, "actor_name": self.by.name, "field": name, "old": old,
                             "new": new, "at": utcnow()})  # fmt: skip

    def flush(self, conn: Connection) -> None:
        insert_many(conn, visitors, [d.row() for d in self.new.values()])
        index_many(conn, [(d.id, d.search_row, d.name, d.email, d.phone) for d in self.new.values()])
        changed = list(self.updated.values())
        update_many(conn, visitors, "id", [{**values, "id": c.id} for c, values in changed])
        searched = [c for c, values in changed if {"name", "email", "phone"} & set(values)]
        reindex_many(conn, [(c.id, c.search_row, c.name, c.email, c.phone) for c in searched])
        insert_many(conn, book.changes, self.history)
        insert_many(conn, rejects, self.rejects)


def _apply(
    conn: Connection, imp: ContactImport, p: Parsed, known: Known, writes: Writes
) -> tuple[str, str | None]:
    found = known.find(p)
    outcome, reason = _decide(imp.mode, found is not None)
    if outcome == "skipped":
        return outcome, reason
    if found is None:
        now = utcnow()
        contact = Draft(new_id("vis"), imp.site_id, p.name, p.email, p.phone,
                        re.sub(r"\D", "", p.phone or "")[:20] or None, p.user_id, p.tags, p.attributes, now,
                        writes.next_row(), now, imp.id)  # fmt: skip
        writes.new[contact.id] = contact
        known.put(contact)
        return "added", None
    values = _changes(found, p, imp.keep_existing)
    if not values:
        return "skipped", "nothing new"
    for key in ("name", "email", "phone", "tags"):
        if key in values:
            writes.change(found.id, key, getattr(found, key), values[key])
    changed = found.model_copy(update=values)
    known.put(changed)
    if isinstance(changed, Draft):
        writes.new[found.id] = changed  # added by this batch: written once, as it ends up
    else:
        writes.updated[found.id] = (changed, {**writes.updated.get(found.id, (changed, {}))[1], **values})
    return "updated", None


def _decide(mode: str, known: bool) -> tuple[str, str | None]:
    if known and mode == "add":
        return "skipped", "already a contact (add only)"
    if not known and mode == "update":
        return "skipped", "not a contact yet (update only)"
    return ("updated" if known else "added"), None


def _changes(found: Visitor | Draft, p: Parsed, keep: bool) -> dict[str, Any]:
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
