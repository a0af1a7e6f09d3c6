"""Custom fields: what a site's admins define a contact to carry beyond name, email and
phone, each with a type (text, number, date, yes/no, one of a list).

A field's values live in the contact's ``attributes`` under the field's key, so the
rules of proactive messages (``attribute.KEY``), bot branches and the host site's
``Parley('set', …)`` read and write the same place. A defined field's value is
checked and stored by its type wherever it comes from: an agent, an import, a bot,
the host site. Keys no field defines stay free-form, as the host site sent them.

The definitions are part of the site's settings (``settings.contacts.fields``), written
under the site row's lock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from server.errors import Conflict, InvalidInput, NotFound
from server.sites.store import site_by_id, sites, update_settings

TYPES = ("text", "number", "date", "boolean", "choice")
MAX_FIELDS = 50
MAX_CHOICES = 50
MAX_TEXT = 1000
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_TRUE = {"true", "yes", "y", "1", "sim", "si", "sí", "on"}
_FALSE = {"false", "no", "n", "0", "não", "nao", "off"}


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    type: str
    choices: tuple[str, ...] = ()

    def out(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "type": self.type, "choices": list(self.choices)}


def of_settings(settings: Mapping[str, Any] | None) -> list[Field]:
    """The fields a site's settings define, in their order."""
    raw = ((settings or {}).get("contacts") or {}).get("fields") or []
    return [Field(f["key"], f["label"], f["type"], tuple(f.get("choices") or ())) for f in raw]


def definitions(conn: Connection, site_id: str) -> list[Field]:
    return of_settings(site_by_id(conn, site_id).settings)


# -- values ---------------------------------------------------------------------------------


def value_of(field: Field, raw: Any) -> Any:
    """``raw`` as the field stores it, or ``invalid_field_value`` naming the field and
    what it takes. None (and an empty string) clear the value."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = raw.strip() if isinstance(raw, str) else raw
    if field.type == "text":
        if not isinstance(text, str | int | float) or isinstance(text, bool):
            _refuse(field, "text")
        return str(text)[:MAX_TEXT]
    if field.type == "number":
        number = _number(text)
        if number is None:
            _refuse(field, "a number, such as 42 or 3.5")
        return number
    if field.type == "date":
        day = _day(text)
        if day is None:
            _refuse(field, "a date as YYYY-MM-DD")
        return day
    if field.type == "boolean":
        if isinstance(text, bool):
            return text
        word = str(text).lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        _refuse(field, "yes or no (true or false)")
    match = next((c for c in field.choices if isinstance(text, str) and c.lower() == text.lower()), None)
    if match is None:
        _refuse(field, "one of " + ", ".join(field.choices))
    return match


def typed(fields: list[Field], attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes with each defined field's value checked and stored by its type (None
    kept: the caller removes the key); keys no field defines pass as they are."""
    by_key = {f.key: f for f in fields}
    return {k: (value_of(by_key[k], v) if k in by_key else v) for k, v in attributes.items()}


def _refuse(field: Field, takes: str) -> None:
    raise InvalidInput(
        f"{field.label}: {takes}",
        code="invalid_field_value",
        field=f"attributes.{field.key}",
    )


def _number(raw: Any) -> int | float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            return None
        return int(raw) if float(raw).is_integer() and abs(raw) < 2**53 else raw
    if not isinstance(raw, str):
        return None
    text = raw.replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # 3,5 as spreadsheets in much of the world write it
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        return None
    number = float(text)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _day(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    try:
        return (
            date.fromisoformat(raw[:10]).isoformat()
            if len(raw) == 10
            else datetime.fromisoformat(raw).date().isoformat()
        )
    except ValueError:
        return None


# -- definitions ----------------------------------------------------------------------------


def define(conn: Connection, site_id: str, body: Mapping[str, Any]) -> Field:
    """A new field: {"key", "label", "type", "choices"?}."""
    unknown = set(body) - {"key", "label", "type", "choices"}
    if unknown:
        raise InvalidInput(
            f"unknown field {sorted(unknown)[0]!r}", code="invalid_input", field=sorted(unknown)[0]
        )
    key = body.get("key")
    if not isinstance(key, str) or not KEY.match(key):
        raise InvalidInput(
            "key: lowercase letters, digits and _, starting with a letter (at most 40)",
            code="invalid_field_key",
            field="key",
        )
    kind = body.get("type")
    if kind not in TYPES:
        raise InvalidInput(f"type: one of {', '.join(TYPES)}", code="invalid_field_type", field="type")
    field = Field(key, _label(body.get("label")), kind, _choices(kind, body.get("choices")))

    def add(fields: list[Field]) -> list[Field]:
        if any(f.key == key for f in fields):
            raise Conflict(f"a field {key!r} already exists", code="field_exists", field="key")
        if len(fields) >= MAX_FIELDS:
            raise InvalidInput(
                f"a site has at most {MAX_FIELDS} fields", code="too_many_fields", limit=MAX_FIELDS
            )
        return [*fields, field]

    _edit(conn, site_id, add)
    return field


def redefine(conn: Connection, site_id: str, key: str, body: Mapping[str, Any]) -> Field:
    """A field's new label or choices; its key and type stay (values are stored by them)."""
    unknown = set(body) - {"label", "choices"}
    if {"key", "type"} & unknown:
        raise InvalidInput(
            "a field's key and type cannot change; add a new field instead",
            code="field_type_fixed",
            field=sorted({"key", "type"} & unknown)[0],
        )
    if unknown:
        raise InvalidInput(
            f"unknown field {sorted(unknown)[0]!r}", code="invalid_input", field=sorted(unknown)[0]
        )
    changed: list[Field] = []

    def change(fields: list[Field]) -> list[Field]:
        old = _find(fields, key)
        new = Field(
            key,
            _label(body["label"]) if "label" in body else old.label,
            old.type,
            _choices(old.type, body["choices"]) if "choices" in body else old.choices,
        )
        changed.append(new)
        return [new if f.key == key else f for f in fields]

    _edit(conn, site_id, change)
    return changed[0]


def undefine(conn: Connection, site_id: str, key: str) -> None:
    """Forget a field; contacts keep their values as plain attributes."""
    _edit(conn, site_id, lambda fields: [f for f in fields if f is not _find(fields, key)])


def _find(fields: list[Field], key: str) -> Field:
    found = next((f for f in fields if f.key == key), None)
    if found is None:
        raise NotFound(f"no field {key!r}", code="field_not_found")
    return found


def _edit(conn: Connection, site_id: str, edit: Callable[[list[Field]], list[Field]]) -> None:
    conn.execute(select(sites.c.id).where(sites.c.id == site_id).with_for_update())  # lock first
    fields = edit(definitions(conn, site_id))
    update_settings(conn, site_id, "contacts", {"fields": [f.out() for f in fields]})


def _label(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw.strip()) > 80:
        raise InvalidInput("label: 1 to 80 characters", code="invalid_field_label", field="label")
    return raw.strip()


def _choices(kind: str, raw: Any) -> tuple[str, ...]:
    if kind != "choice":
        if raw not in (None, []):
            raise InvalidInput(
                "choices: only for a field of type choice", code="invalid_field_choices", field="choices"
            )
        return ()
    if (
        not isinstance(raw, list)
        or not 1 <= len(raw) <= MAX_CHOICES
        or not all(isinstance(c, str) and 0 < len(c.strip()) <= 80 for c in raw)
    ):
        raise InvalidInput(
            f"choices: 1 to {MAX_CHOICES} words of at most 80 characters",
            code="invalid_field_choices",
            field="choices",
        )
    kept = tuple(dict.fromkeys(c.strip() for c in raw))
    if len({c.lower() for c in kept}) != len(kept):
        raise InvalidInput("choices: each once", code="invalid_field_choices", field="choices")
    return kept
