"""CSV imports of contacts: reading a file as spreadsheets export it, mapping its
columns, and taking its rows in batches, as a dry run that only counts or for real.

The file is kept as uploaded (``import_chunks``) and read as a stream, never whole:
its encoding is found from a byte-order mark, else by trying UTF-8, else by
``charset-normalizer`` among the encodings spreadsheets write (Windows-1252,
Latin-1, Mac Roman); its delimiter by ``csv.Sniffer`` among ``, ; tab |``.

Its rows are taken by server/contacts/import_rows.py. An import never starts a
conversation or sends anything.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from typing import Any

from charset_normalizer import from_bytes
from sqlalchemy import Connection, delete, insert, select, update

from server.contacts.models import ContactImport, ImportChunk, ImportReject
from server.db import leases
from server.errors import InvalidInput, NotFound
from server.ids import iso, utcnow

imports = ContactImport.__table__  # type: ignore[attr-defined]
chunks = ImportChunk.__table__  # type: ignore[attr-defined]
rejects = ImportReject.__table__  # type: ignore[attr-defined]

MAX_BYTES = 100 * 1024 * 1024  # an upload's limit (413 import_too_large)
CHUNK_BYTES = 1024 * 1024
SAMPLE_BYTES = 256 * 1024
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


def claim(conn: Connection, now: Any, lease_until: Any) -> ContactImport | None:
    """The oldest queued import, or a running one whose process went quiet; None if none."""
    candidate = leases.take_oldest(conn, imports, now, lease_until)
    if candidate is None:
        return None
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
