"""CSV imports of contacts: reading a file as spreadsheets export it, mapping its
columns, and taking its rows in batches, as a dry run that only counts or for real.

The file is kept as uploaded (``import_chunks``) and read as a stream, never whole:
its encoding is found from a byte-order mark, else by trying UTF-8, else by
``charset-normalizer`` among the encodings spreadsheets write (Windows-1252,
Latin-1, Mac Roman); its delimiter by ``csv.Sniffer`` among ``, ; tab |``.

Each row is matched to an existing contact by user id, then email, then E.164 phone
(earlier rows of the same file included), and added, updated or skipped by the mode.
An import never starts a conversation or sends anything.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from charset_normalizer import from_bytes
from sqlalchemy import Connection, delete, insert, select, update

from server.contacts import book
from server.contacts.book import Actor
from server.contacts.models import ContactImport, ImportChunk, ImportReject, Visitor
from server.contacts.search import index_visitor, terms, terms_of
from server.contacts.store import visitors
from server.errors import InvalidInput, NotFound
from server.ids import iso, new_id, utcnow

imports = ContactImport.__table__  # type: ignore[attr-defined]
chunks = ImportChunk.__table__  # type: ignore[attr-defined]
rejects = ImportReject.__table__  # type: ignore[attr-defined]

MAX_BYTES = 100 * 1024 * 1024  # an upload's limit (413 import_too_large)
CHUNK_BYTES = 1024 * 1024
SAMPLE_BYTES = 256 * 1024
BATCH = 500  # rows per transaction
MODES = ("add", "update", "upsert")
FIELDS = ("name", "first_name", "last_name", "email", "phone", "user_id", "tags", "ignore")
SPREADSHEET_ENCODINGS = ["cp1252", "latin_1", "mac_roman"]
_GUESS = {
    "name": {"name", "full name", "nome", "nombre", "contact", "contato", "contacto"},
    "first_name": {"first name", "first", "given name", "primeiro nome", "nome próprio", "nombre de pila"},
    "last_name": {"last name", "last", "surname", "family name", "apelido", "sobrenome", "apellido",
                  "apellidos"},
    "email": {"email", "e-mail", "mail", "email address", "correo", "correo electrónico"},
    "phone": {"phone", "telephone", "mobile", "cell", "telefone", "telemóvel", "celular", "teléfono", "móvil",
              "whatsapp"},
    "user_id": {"user id", "user_id", "id", "customer id", "external id"},
    "tags": {"tags", "tag", "labels", "etiquetas"},
}  # fmt: skip


# -- reading the file ----------------------------------------------------------------------


def encoding_of(sample: bytes, utf8_ok: bool) -> str:
    """The file's encoding, from its first bytes and whether all of it decoded as UTF-8."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if utf8_ok:
        return "utf-8"
    best = from_bytes(sample, cp_isolation=SPREADSHEET_ENCODINGS).best()
    return best.encoding if best is not None else "cp1252"


def delimiter_of(text: str) -> str:
    lines = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(lines, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: lines.count(d) for d in ",;\t|"}
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def records(fetch: Any, import_id: str, encoding: str, delimiter: str) -> Iterator[list[str]]:
    """Every record of the file, headers first, read chunk by chunk (``fetch(id, n)``
    returns a chunk's bytes or None after the last)."""

    def text() -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        pending = ""
        n = 0
        while True:
            data = fetch(import_id, n)
            if data is None:
                break
            pending += decoder.decode(data)
            lines = pending.splitlines(keepends=True)
            pending = lines.pop() if lines and not lines[-1].endswith(("\n", "\r")) else ""
            yield from lines
            n += 1
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending

    for record in csv.reader(text(), delimiter=delimiter):
        if any(cell.strip() for cell in record):
            yield record


def chunk_of(conn: Connection, import_id: str, n: int) -> bytes | None:
    found = conn.execute(
        select(chunks.c.data).where(chunks.c.import_id == import_id, chunks.c.n == n)
    ).scalar()
    return bytes(found) if found is not None else None


# -- the import's row -------------------------------------------------------------------------


def create(conn: Connection, *, site_id: str, user_id: str, filename: str) -> str:
    made = ContactImport(site_id=site_id, created_by=user_id, filename=filename[:200] or "import.csv",
                         size=0, encoding="", delimiter=",", status="uploading")  # fmt: skip
    conn.execute(insert(imports).values(made.model_dump()))
    return made.id


def forget(conn: Connection, import_id: str) -> None:
    """An upload that failed leaves nothing behind."""
    conn.execute(delete(chunks).where(chunks.c.import_id == import_id))
    conn.execute(delete(rejects).where(rejects.c.import_id == import_id))
    conn.execute(delete(imports).where(imports.c.id == import_id))


def put_chunk(conn: Connection, import_id: str, n: int, data: bytes) -> None:
    conn.execute(insert(chunks).values(import_id=import_id, n=n, data=data))


def described(conn: Connection, import_id: str, *, size: int, encoding: str, delimiter: str,
              headers: list[str], rows_total: int) -> None:  # fmt: skip
    guessed = guess_mapping(headers)
    conn.execute(
        update(imports)
        .where(imports.c.id == import_id)
        .values(size=size, encoding=encoding, delimiter=delimiter, headers=headers, rows_total=rows_total,
                mapping=guessed, status="uploaded")
    )  # fmt: skip


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """Each column to the field its header names (in English, Portuguese or Spanish), else ignored."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()

    def bare(text: str) -> str:  # "E-mail", "e_mail" and "Email" are one header
        return re.sub(r"[\s_\-.]+", "", text).casefold()

    for i, header in enumerate(headers):
        words = bare(header)
        target = next(
            (f for f, names in _GUESS.items() if words in {bare(n) for n in names} and f not in taken), None
        )
        mapping[str(i)] = target or "ignore"
        if target and target != "tags":
            taken.add(target)
    return mapping


def load(conn: Connection, import_id: str, site_id: str | None = None) -> ContactImport:
    row = conn.execute(select(imports).where(imports.c.id == import_id)).mappings().first()
    if row is None or (site_id is not None and row["site_id"] != site_id):
        raise NotFound(f"no import {import_id!r}", code="import_not_found")
    return ContactImport.model_validate(dict(row))


def public(imp: ContactImport) -> dict[str, Any]:
    return {
        "id": imp.id,
        "filename": imp.filename,
        "size": imp.size,
        "encoding": imp.encoding,
        "delimiter": imp.delimiter,
        "headers": imp.headers,
        "rows_total": imp.rows_total,
        "mapping": imp.mapping,
        "mode": imp.mode,
        "keep_existing": imp.keep_existing,
        "dry": imp.dry,
        "status": imp.status,
        "rows_done": imp.rows_done,
        "counts": imp.counts,
        "error": imp.error,
        "created_at": iso(imp.created_at),
        "finished_at": iso(imp.finished_at) if imp.finished_at else None,
    }


def check_mapping(imp: ContactImport, raw: Any) -> dict[str, str]:
    """Each column (by its index, as a string) to a field, ``attribute:KEY``, tags or ignore."""
    if not isinstance(raw, dict):
        raise InvalidInput(
            "mapping: an object of column index to field", code="invalid_mapping", field="mapping"
        )
    mapping: dict[str, str] = {}
    for key, target in raw.items():
        if not (isinstance(key, str) and key.isdigit() and int(key) < len(imp.headers)):
            raise InvalidInput(f"mapping: no column {key!r}", code="invalid_mapping", field="mapping")
        if not isinstance(target, str) or not (
            target in FIELDS or re.fullmatch(r"attribute:[A-Za-z0-9_.\-]{1,64}", target)
        ):
            raise InvalidInput(
                f"mapping: column {imp.headers[int(key)]!r} cannot go to {target!r}",
                code="invalid_mapping",
                field="mapping",
            )
        mapping[key] = target
    singles = [t for t in mapping.values() if t not in ("ignore", "tags")]
    twice = sorted({t for t in singles if singles.count(t) > 1})
    if twice:
        raise InvalidInput(f"mapping: two columns go to {twice[0]}", code="invalid_mapping", field="mapping")
    if not {"name", "first_name", "last_name", "email", "phone", "user_id"} & set(singles):
        raise InvalidInput(
            "mapping: map a column to a name, an email, a phone or a user id",
            code="invalid_mapping",
            field="mapping",
        )
    return mapping


def queue(conn: Connection, import_id: str, *, mapping: dict[str, str], mode: str, keep_existing: bool,
          dry: bool) -> ContactImport:  # fmt: skip
    """A dry run or the import, to be taken by the next free process."""
    imp = load(conn, import_id)
    if imp.status in ("queued", "running"):
        raise InvalidInput("this import is already running", code="import_running")
    if imp.status == "done" and not imp.dry:
        raise InvalidInput("this file was imported already; upload it again to repeat", code="import_done")
    conn.execute(delete(rejects).where(rejects.c.import_id == import_id))
    conn.execute(
        update(imports)
        .where(imports.c.id == import_id)
        .values(mapping=mapping, mode=mode, keep_existing=keep_existing, dry=dry, status="queued",
                rows_done=0, counts={}, lease_until=None, error=None, finished_at=None)
    )  # fmt: skip
    return load(conn, import_id)


def rejected(conn: Connection, import_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(rejects).where(rejects.c.import_id == import_id).order_by(rejects.c.row)
    ).mappings()
    return [dict(r) for r in rows]


# -- taking rows --------------------------------------------------------------------------------


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
    parsed = [(row, _parse(imp, row, country)) for row in batch]
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
    attributes: dict[str, str]

    @property
    def keys(self) -> list[str]:
        found = [f"u:{self.user_id}" if self.user_id else "", f"e:{self.email.lower()}" if self.email else ""]
        return [k for k in [*found, f"p:{self.phone}" if self.phone else ""] if k]


def _parse(imp: ContactImport, row: Row, country: str | None) -> Parsed | str:
    """The row's values by the mapping, checked; or why it is rejected."""
    values: dict[str, Any] = {}
    tags: list[str] = []
    attributes: dict[str, str] = {}
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
        user_ids = sorted({r.user_id for r in rows if r.user_id})
        emails = {r.email.lower() for r in rows if r.email}
        phones = {r.phone for r in rows if r.phone}
        found: list[Any] = []
        if user_ids:
            found += (
                conn.execute(
                    select(visitors).where(visitors.c.site_id == site_id, visitors.c.user_id.in_(user_ids))
                )
                .mappings()
                .all()
            )
        probes = sorted(
            {"e:" + e.casefold()[:118] for e in emails} | {"p:" + re.sub(r"\D", "", p) for p in phones}
        )
        if probes:
            ids = select(terms.c.visitor_id).where(terms.c.term.in_(probes))
            found += (
                conn.execute(select(visitors).where(visitors.c.id.in_(ids), visitors.c.site_id == site_id))
                .mappings()
                .all()
            )
        for row in sorted(found, key=lambda r: r["created_at"], reverse=True):  # the oldest wins a key
            contact = Visitor.model_validate(dict(row))
            for key in _keys_of(contact):
                if key[2:] in emails or key[2:] in phones or key[2:] in user_ids:
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


def rejected_csv(rows: list[dict[str, Any]], headers: list[str]) -> str:
    """The rejected rows as CSV: the reason, the row number, then the file's own columns;
    cells a spreadsheet would run as formulas are neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["reason", "row", *headers])
    for r in rows:
        writer.writerow([safe_cell(c) for c in [r["reason"], str(r["row"]), *r["cells"]]])
    return out.getvalue()


def safe_cell(cell: str) -> str:
    """A cell starting with = + - @ tab or CR gets a leading ' so spreadsheets show it as text."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


# -- the job: claimed by one process at a time, resumed after a crash ------------------------


def _free(now: Any) -> Any:
    return imports.c.status.in_(("queued", "running")) & (
        imports.c.lease_until.is_(None) | (imports.c.lease_until < now)
    )


def waiting(conn: Connection, now: Any) -> bool:
    return conn.execute(select(imports.c.id).where(_free(now)).limit(1)).first() is not None


def claim(conn: Connection, now: Any, lease_until: Any) -> ContactImport | None:
    """The oldest queued import, or a running one whose process went quiet; None if none."""
    candidate = conn.execute(
        select(imports.c.id).where(_free(now)).order_by(imports.c.created_at).limit(1)
    ).scalar()
    if candidate is None:
        return None
    taken = conn.execute(
        update(imports)
        .where(imports.c.id == candidate, _free(now))
        .values(status="running", lease_until=lease_until)
    )
    if taken.rowcount != 1:
        return None  # another process took it first
    imp = load(conn, candidate)
    if imp.dry and imp.rows_done:
        # A dry run's memory of the file's earlier rows died with its process: count again.
        conn.execute(delete(rejects).where(rejects.c.import_id == imp.id))
        conn.execute(update(imports).where(imports.c.id == imp.id).values(rows_done=0, counts={}))
        imp = imp.model_copy(update={"rows_done": 0, "counts": {}})
    return imp


def finish(conn: Connection, import_id: str, error: str | None = None) -> None:
    """The import ended; once it imported for real its file is no longer kept (only the
    rejected rows stay, to download)."""
    if error is None and load(conn, import_id).dry is False:
        conn.execute(delete(chunks).where(chunks.c.import_id == import_id))
    conn.execute(
        update(imports)
        .where(imports.c.id == import_id)
        .values(status="failed" if error else "done", lease_until=None, error=error, finished_at=utcnow())
    )
