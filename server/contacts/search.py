"""Finding contacts: names by word prefix, emails by substring, phones by digits
whatever the formatting. Two indexes, one per database, behind the same functions:

On PostgreSQL, one row per searchable piece of a visitor in ``visitor_terms``, so
every kind of search is a range scan on the primary key:

- ``n:WORD`` for each word of the name: names match by word prefix;
- ``e:SUFFIX`` for each suffix of the email: a prefix of a suffix is a substring;
- ``p:SUFFIX`` for each suffix of the phone's digits: "+351 912-345" is found by "912345".

On SQLite, one row per visitor in ``visitor_search``, an FTS5 table with the trigram
tokenizer over the casefolded name, the email and the phone's digits: any substring
of three characters or more is an index lookup, and a contact costs one row to write
rather than some forty (what lets an import take tens of thousands of rows a second).
Its rowid is the visitor's ``search_row``. Shorter pieces (one or two letters) are
broad searches anyway: they stay a condition that the walk of the newest rows checks.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)

from server.contacts.models import Visitor, VisitorTerm

terms = VisitorTerm.__table__  # type: ignore[attr-defined]
_visitors = Visitor.__table__  # type: ignore[attr-defined]

_HIGH = "\U0010ffff"
WALK_ABOVE = 1000  # more candidates than this: walk the newest rows instead
DRIVE_BELOW = 10_000  # SQLite: up to this many, start from them all the same (_by_trigrams)
# ... but only up to BREAK_EVEN * √(contacts indexed): past it the walk is shorter (below).
BREAK_EVEN = 5


def terms_of(name: str | None, email: str | None, phone: str | None) -> set[str]:
    found = {"n:" + w for w in re.findall(r"\w+", (name or "").casefold())}
    mail = (email or "").casefold()
    found |= {"e:" + mail[i:][:118] for i in range(len(mail))}
    digits = re.sub(r"\D", "", phone or "")
    found |= {"p:" + digits[i:] for i in range(len(digits))}
    return found


def trigrams(conn: Connection) -> bool:
    """Whether this database searches with ``visitor_search`` (SQLite) or terms."""
    return conn.dialect.name == "sqlite"


def fts_values(name: str | None, email: str | None, phone: str | None) -> tuple[str, str, str]:
    """What ``visitor_search`` holds of a visitor: the name's casefolded words, each after
    a space (" rita lopes": a word's start is the trigram " ri", so "word starts with" is
    an index lookup for two letters and more), the casefolded email, the phone's digits."""
    words = re.findall(r"\w+", (name or "").casefold())
    return "".join(" " + w for w in words), (email or "").casefold(), re.sub(r"\D", "", phone or "")


def index_visitor(
    conn: Connection, visitor_id: str, name: str | None, email: str | None, phone: str | None
) -> None:
    """Replace a visitor's search entry (after their name, email or phone changed)."""
    if not trigrams(conn):
        conn.execute(delete(terms).where(terms.c.visitor_id == visitor_id))
        rows = [{"term": t, "visitor_id": visitor_id} for t in terms_of(name, email, phone)]
        if rows:
            conn.execute(insert(terms), rows)
        return
    row = conn.execute(select(_visitors.c.search_row).where(_visitors.c.id == visitor_id)).scalar()
    if row is None:
        row = next_rows(conn, 1)
        conn.execute(update(_visitors).where(_visitors.c.id == visitor_id).values(search_row=row))
    else:
        conn.exec_driver_sql("DELETE FROM visitor_search WHERE rowid = ?", (row,))
    conn.exec_driver_sql(
        "INSERT INTO visitor_search (rowid, name, email, phone) VALUES (?, ?, ?, ?)",
        (row, *fts_values(name, email, phone)),
    )


def index_many(
    conn: Connection, entries: list[tuple[str, int | None, str | None, str | None, str | None]]
) -> None:
    """Search entries of visitors written in bulk (``(id, search_row, name, email, phone)``,
    the row from ``next_rows`` and already on the visitor, on SQLite)."""
    if not entries:
        return
    if not trigrams(conn):
        rows = [{"term": t, "visitor_id": v} for v, _, n, e, p in entries for t in terms_of(n, e, p)]
        if rows:
            conn.execute(insert(terms), rows)
        return
    conn.exec_driver_sql(
        "INSERT INTO visitor_search (rowid, name, email, phone) VALUES (?, ?, ?, ?)",
        [(row, *fts_values(n, e, p)) for _, row, n, e, p in entries],
    )


def reindex_many(
    conn: Connection, entries: list[tuple[str, int | None, str | None, str | None, str | None]]
) -> None:
    """New search entries for visitors already indexed (``(id, search_row, name, email,
    phone)``), in bulk: an import's updates."""
    if not entries:
        return
    if not trigrams(conn) or any(row is None for _, row, *_ in entries):
        for visitor_id, _, name, email, phone in entries:
            index_visitor(conn, visitor_id, name, email, phone)
        return
    conn.exec_driver_sql("DELETE FROM visitor_search WHERE rowid = ?", [(row,) for _, row, *_ in entries])
    index_many(conn, entries)


def next_rows(conn: Connection, count: int) -> int:
    """The first of ``count`` unused search rows (SQLite writes one transaction at a time)."""
    top = conn.execute(select(func.max(_visitors.c.search_row))).scalar()
    return int(top or 0) + 1


def forget(conn: Connection, visitor_id: str) -> None:
    """A visitor's search entry, gone (they were erased or merged away)."""
    if not trigrams(conn):
        conn.execute(delete(terms).where(terms.c.visitor_id == visitor_id))
        return
    row = conn.execute(select(_visitors.c.search_row).where(_visitors.c.id == visitor_id)).scalar()
    if row is not None:
        conn.exec_driver_sql("DELETE FROM visitor_search WHERE rowid = ?", (row,))


@dataclass
class Matches:
    """Visitors a search found: ``sure`` match; ``named`` still need their name's
    words checked against ``words`` (a word too common to list was skipped)."""

    sure: set[str]
    named: set[str]
    words: list[str]

    def keeps(self, row: Any) -> bool:
        if row["visitor_id"] in self.sure:
            return True
        if row["visitor_id"] not in self.named:
            return False
        have = re.findall(r"\w+", (row["name"] or "").casefold())
        return all(any(h.startswith(w) for h in have) for w in self.words)


def matching(conn: Connection, query: str, visitor_id: Any) -> Matches | Any | None:
    """The visitors whose name (every word starts a word of it), email (substring)
    or phone (digits) match; None: no search. ``visitor_id`` is the column of the
    query being filtered that holds a visitor's id (a condition is correlated with it).

    A selective search (an email, a phone, a rare name) becomes a list of
    visitors, so the database starts from them; a broad one (one common letter)
    stays a condition, and the newest conversations satisfy it at once.
    """
    query = query.strip().casefold()
    if not query:
        return None
    words = re.findall(r"\w+", query)
    digits = re.sub(r"\D", "", query)
    by_phone = len(digits) >= 3 and re.fullmatch(r"[\d\s+().\-/]+", query) is not None
    if trigrams(conn):
        return _by_trigrams(conn, query, words, digits if by_phone else "", visitor_id)

    def range_of(prefix: str) -> Any:
        return and_(terms.c.term >= prefix, terms.c.term < prefix + _HIGH)

    def listed(prefix: str) -> set[str] | None:
        rows = conn.execute(select(terms.c.visitor_id).where(range_of(prefix)).limit(WALK_ABOVE + 1)).all()
        return None if len(rows) > WALK_ABOVE else {r[0] for r in rows}

    def condition() -> Any:
        groups = [and_(*(_in(visitor_id, range_of("n:" + w)) for w in words))] if words else []
        groups.append(_in(visitor_id, range_of("e:" + query)))
        if by_phone:
            groups.append(_in(visitor_id, range_of("p:" + digits)))
        return or_(*groups)

    sure: set[str] = set()
    for prefix in ["e:" + query] + (["p:" + digits] if by_phone else []):
        ids = listed(prefix)
        if ids is None:
            return condition()
        sure |= ids
    named: set[str] = set()
    if words:
        # Visitors with every word, counted in the database: two common words
        # ("joao k") are often a rare pair.
        found: set[str] | None
        if len(words) > 1:
            # Start from the longest word's visitors (the likeliest to be few) and
            # probe each of them for the other words.
            driver = max(words, key=len)
            query_ = select(terms.c.visitor_id).where(range_of("n:" + driver))
            for word in words:
                if word is not driver:
                    other = terms.alias()
                    query_ = query_.where(
                        select(literal(1))
                        .where(other.c.visitor_id == terms.c.visitor_id, other.c.term >= "n:" + word)
                        .where(other.c.term < "n:" + word + _HIGH)
                        .offset(0)
                        .exists()
                    )
            found = {r[0] for r in conn.execute(query_.limit(WALK_ABOVE + 1))}
        else:
            found = listed("n:" + words[0])
        if found is None or len(found) > WALK_ABOVE:
            # Common words: walking the newest conversations finds matches sooner
            # than fetching thousands of visitors' conversations to sort them.
            return condition()
        named = found
    if len(sure) + len(named) > WALK_ABOVE:
        return condition()
    return Matches(sure, named, words)


def _by_trigrams(
    conn: Connection, query: str, words: list[str], digits: str, visitor_id: Any
) -> Matches | Any:
    """``matching`` on SQLite's ``visitor_search``: the same answers, from trigrams, by
    one of three ways chosen on how many visitors the trigrams find. The trigrams are
    read once: each kind's search rows, up to the cap, are what the chosen way uses.

    - at most ``WALK_ABOVE``: their ids (``Matches``), as with terms;
    - up to the cap (``BREAK_EVEN`` * √contacts, at most ``DRIVE_BELOW``): a condition
      that starts from those rows, so the database sorts a few thousand of them (from
      ``ix_visitors_search_sort``, which holds what the sort needs) rather than walking
      the newest until a page is full (a rare, old match could take it through every row);
    - more: the walk, which such a common piece fills soon. A walk of N contacts for a
      page of 50 reads about 50·N/matches rows, the condition each match once: the two
      cost the same near 5·√N matches (1,600 at 100,000 contacts, 5,000 at a million).
    """
    long_words = [w for w in words if len(w) >= 2]  # " " + the word: a trigram at least
    if len(query) < 3 or (words and not long_words):
        return _walked(query, words, digits, visitor_id)
    # A one-letter word is checked on the candidates' names: "ana s" is the few Ana S.
    short = [w for w in words if len(w) < 2]
    kinds = {"email": f"email : {_phrase(query)}"}
    if digits:
        kinds["phone"] = f"phone : {_phrase(digits)}"
    if long_words:
        kinds["name"] = " AND ".join(f"name : {_phrase(' ' + w)}" for w in long_words)
    # The contacts indexed, all sites together (an index's last entry): a small site in a
    # big database starts from its matches more often, which stays cheap.
    indexed = conn.execute(select(func.max(_visitors.c.search_row))).scalar() or 0
    cap = max(WALK_ABOVE, min(DRIVE_BELOW, int(BREAK_EVEN * math.sqrt(indexed))))
    sql = "SELECT rowid FROM visitor_search WHERE visitor_search MATCH ? LIMIT ?"
    found = {
        kind: list(conn.exec_driver_sql(sql, (match, cap + 1)).scalars().all())
        for kind, match in kinds.items()
    }
    count = sum(len(rows) for rows in found.values())
    if count > cap:
        return _walked(query, words, digits, visitor_id)
    v = _visitors if visitor_id is _visitors.c.id else _visitors.alias("searched")
    name = func.lower(" " + func.coalesce(v.c.name, ""))

    def of(kind: str) -> Any:
        """The visitors of the kind's search rows (names: with the one-letter words too)."""
        rows = text(f"SELECT value FROM json_each(:rows_{kind})").bindparams(
            **{f"rows_{kind}": json.dumps(found[kind])}
        )
        starts = [name.like(f"% {_escaped(w)}%", escape="\\") for w in short] if kind == "name" else []
        return and_(v.c.search_row.in_(rows.columns(value=Integer)), *starts)

    if count > WALK_ABOVE:
        if v is _visitors:  # the contact list: the condition is on its own rows
            return or_(*(of(kind) for kind in found))
        return visitor_id.in_(select(v.c.id).where(or_(*(of(kind) for kind in found))))

    def ids(*kinds_: str) -> set[str]:
        chosen = [of(k) for k in kinds_ if found[k]]
        return {r[0] for r in conn.execute(select(v.c.id).where(or_(*chosen)))} if chosen else set()

    named = ids("name") if "name" in found else set()
    return Matches(ids(*(k for k in found if k != "name")), named, words)


def _walked(query: str, words: list[str], digits: str, visitor_id: Any) -> Any:
    """Broad or short: checked on each walked row's visitor (a primary-key probe), or on
    the row itself when the walk is of visitors (the contact list: a third of the time)."""
    own = visitor_id is _visitors.c.id
    v = _visitors if own else _visitors.alias("searched")
    name = func.lower(" " + func.coalesce(v.c.name, ""))
    groups = [and_(*(name.like(f"% {_escaped(w)}%", escape="\\") for w in words))] if words else []
    groups.append(func.lower(func.coalesce(v.c.email, "")).like(f"%{_escaped(query)}%", escape="\\"))
    if digits:
        groups.append(v.c.phone_digits.like(f"%{digits}%"))
    if own:
        return or_(*groups)
    return exists(select(literal(1)).where(v.c.id == visitor_id, or_(*groups)))


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _in(visitor_id: Any, term_range: Any) -> Any:
    """The row's visitor has a term in the range: correlated, so the walk probes
    (visitor_id, term) once per row it passes instead of first collecting every
    matching visitor (a broad search matches most of them)."""
    # OFFSET 0 keeps PostgreSQL from turning the probe into a hashed subplan, which
    # would read every term in the range first (100,000 rows for "exampl": 300 ms).
    return select(literal(1)).where(terms.c.visitor_id == visitor_id, term_range).offset(0).exists()
