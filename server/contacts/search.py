"""Finding contacts: one row per searchable piece of a visitor in ``visitor_terms``,
so every kind of search is a range scan on the primary key:

- ``n:WORD`` for each word of the name: names match by word prefix;
- ``e:SUFFIX`` for each suffix of the email: a prefix of a suffix is a substring;
- ``p:SUFFIX`` for each suffix of the phone's digits: "+351 912-345" is found by "912345".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, literal, or_, select

from server.contacts.models import VisitorTerm

terms = VisitorTerm.__table__  # type: ignore[attr-defined]

_HIGH = "\U0010ffff"
WALK_ABOVE = 1000  # more candidates than this: walk the newest rows instead


def terms_of(name: str | None, email: str | None, phone: str | None) -> set[str]:
    found = {"n:" + w for w in re.findall(r"\w+", (name or "").casefold())}
    mail = (email or "").casefold()
    found |= {"e:" + mail[i:][:118] for i in range(len(mail))}
    digits = re.sub(r"\D", "", phone or "")
    found |= {"p:" + digits[i:] for i in range(len(digits))}
    return found


def index_visitor(
    conn: Connection, visitor_id: str, name: str | None, email: str | None, phone: str | None
) -> None:
    """Replace a visitor's search terms (after their name, email or phone changed)."""
    conn.execute(delete(terms).where(terms.c.visitor_id == visitor_id))
    rows = [{"term": t, "visitor_id": visitor_id} for t in terms_of(name, email, phone)]
    if rows:
        conn.execute(insert(terms), rows)


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


def _in(visitor_id: Any, term_range: Any) -> Any:
    """The row's visitor has a term in the range: correlated, so the walk probes
    (visitor_id, term) once per row it passes instead of first collecting every
    matching visitor (a broad search matches most of them)."""
    # OFFSET 0 keeps PostgreSQL from turning the probe into a hashed subplan, which
    # would read every term in the range first (100,000 rows for "exampl": 300 ms).
    return select(literal(1)).where(terms.c.visitor_id == visitor_id, term_range).offset(0).exists()
