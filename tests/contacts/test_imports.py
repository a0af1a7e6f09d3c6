"""CSV imports through the real server: files as spreadsheets write them (encodings,
delimiters), the mapping, every mode and its dry run against the same file, rejected
rows downloaded, role checks, and an import that survives its server being killed."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from server.sites.models import Site
from tests.conftest import BACKENDS
from tests.harness import Stack, build_stack
from tests.helpers import signed_http

pytestmark = pytest.mark.anyio

HEADERS = ["Nome", "E-mail", "Telefone", "Tags", "Plano"]
ROWS = [
    ["Ana Nova", "ana@example.com", "912 000 001", "lead, pt", "pro"],
    ["Bruno Novo", "bruno@example.com", "", "lead", ""],
    ["Carla New", "carla@example.com", "", "vip", "basic"],  # Carla is a contact already
    ["Ana Again", "ANA@example.com", "912 000 009", "", ""],  # the file's own duplicate of Ana
    ["Dora Bad", "dora@", "", "", ""],  # not an email
    ["", "", "", "lonely", ""],  # nobody
]
MAPPING = {"0": "name", "1": "email", "2": "phone", "3": "tags", "4": "attribute:plan"}


@pytest.fixture(scope="module", params=BACKENDS)
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Servers that take over a silent import after one second."""
    built = build_stack(request.param, job_lease_s="1")
    yield built
    built.close()


def admin(stack: Stack, role: str = "admin") -> Any:
    """An admin's (or ``role``'s) signed-in HTTP session."""
    return signed_http(stack, role)


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ";") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


async def upload(http: httpx.AsyncClient, site: Site, data: bytes, name: str = "leads.csv") -> dict[str, Any]:
    done = await http.post(f"/api/v1/sites/{site.key}/imports", content=data, headers={"X-Filename": name})
    assert done.status_code == 201, done.text
    body: dict[str, Any] = done.json()
    return body


async def run(http: httpx.AsyncClient, import_id: str, **options: Any) -> dict[str, Any]:
    started = await http.post(f"/api/v1/imports/{import_id}/run", json={"mapping": MAPPING, **options})
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state: dict[str, Any] = (await http.get(f"/api/v1/imports/{import_id}")).json()["import"]
        if state["status"] in ("done", "failed"):
            assert state["status"] == "done", state.get("error")
            return state
        await asyncio.sleep(0.05)
    raise AssertionError("the import did not finish in 30 s")


async def lisbon_with_carla(stack: Stack, http: httpx.AsyncClient) -> Site:
    site = stack.create_site(contacts={"default_country": "PT"})
    made = await http.post(
        f"/api/v1/sites/{site.key}/contacts", json={"name": "Carla Existing", "email": "carla@example.com"}
    )
    assert made.status_code == 201, made.text
    return site


@pytest.mark.parametrize(
    ("encoding", "delimiter", "written"),
    [
        ("utf-8", ";", "utf-8"),
        ("utf-8-sig", ",", "utf-8-sig"),  # Excel's "CSV UTF-8"
        ("utf-16", "\t", "utf-16"),  # Excel's "Unicode text"
        ("cp1252", ";", "cp1252"),  # Excel's "CSV" on a Portuguese Windows
    ],
)
async def test_files_as_spreadsheets_write_them_are_read(
    stack: Stack, encoding: str, delimiter: str, written: str
) -> None:
    async with admin(stack) as http:
        site = stack.create_site()
        rows = [HEADERS, ["João Ção", "joao@example.com", "912 000 002", "lead", "pro"], *ROWS[:2]]
        body = await upload(http, site, csv_bytes(rows, encoding=written, delimiter=delimiter))
        found = body["import"]
        assert (found["encoding"].replace("_", "-"), found["delimiter"]) == (encoding, delimiter)
        assert (found["headers"], found["rows_total"]) == (HEADERS, 3)
        assert body["sample"][0][0] == "João Ção"
        # The headers are guessed in Portuguese too.
        assert found["mapping"] == {"0": "name", "1": "email", "2": "phone", "3": "tags", "4": "ignore"}


async def test_a_latin1_file_that_is_not_utf8_is_not_read_as_utf8(stack: Stack) -> None:
    async with admin(stack) as http:
        site = stack.create_site()
        rows = [["Nome", "Cidade"], *[[f"Conceição {i}", "São João da Madeira"] for i in range(30)]]
        found = (await upload(http, site, csv_bytes(rows, encoding="latin-1")))["import"]
        assert found["encoding"].replace("_", "-") in ("cp1252", "latin-1", "iso8859-1")
        sample = (await http.get(f"/api/v1/imports/{found['id']}")).json()["sample"]
        assert sample[0] == ["Conceição 0", "São João da Madeira"]


async def test_every_mode_and_its_dry_run_against_the_same_file(stack: Stack) -> None:
    async with admin(stack) as http:
        expected = {
            "upsert": {"added": 2, "updated": 2, "skipped": 0, "rejected": 2},
            "add": {"added": 2, "updated": 0, "skipped": 2, "rejected": 2},
            "update": {"added": 0, "updated": 1, "skipped": 3, "rejected": 2},
        }
        for mode, counts in expected.items():
            site = await lisbon_with_carla(stack, http)
            imp = (await upload(http, site, csv_bytes([HEADERS, *ROWS])))["import"]
            dry = await run(http, imp["id"], mode=mode, dry=True)
            assert {k: dry["counts"][k] for k in counts} == counts, (mode, dry["counts"])
            listed = (await http.get(f"/api/v1/sites/{site.key}/contacts")).json()["contacts"]
            assert [c["name"] for c in listed] == ["Carla Existing"]  # a dry run changes nothing
            real = await run(http, imp["id"], mode=mode, dry=False)
            assert {k: real["counts"][k] for k in counts} == counts, (mode, real["counts"])
            assert real["counts"]["reasons"]["no name, email, phone or user id"] == 1


async def test_an_import_adds_normalises_dedupes_and_tags(stack: Stack) -> None:
    async with admin(stack) as http:
        site = await lisbon_with_carla(stack, http)
        imp = (await upload(http, site, csv_bytes([HEADERS, *ROWS])))["import"]
        await run(http, imp["id"], mode="upsert", dry=False)
        people = {
            c["email"]: c for c in (await http.get(f"/api/v1/sites/{site.key}/contacts")).json()["contacts"]
        }
        assert set(people) == {"ana@example.com", "bruno@example.com", "carla@example.com"}
        ana = people["ana@example.com"]
        # The file's second Ana updated the first (upsert overwrites; its tags add to hers).
        assert (ana["name"], ana["phone"], ana["tags"]) == ("Ana Again", "+351912000009", ["lead", "pt"])
        carla = (await http.get(f"/api/v1/contacts/{people['carla@example.com']['id']}")).json()
        assert carla["contact"]["name"] == "Carla New" and carla["contact"]["tags"] == ["vip"]
        assert carla["contact"]["attributes"] == {"plan": "basic"}
        assert carla["history"][0]["by"] == {"type": "import", "id": imp["id"], "name": "leads.csv"}


async def test_keep_existing_values_does_not_overwrite(stack: Stack) -> None:
    async with admin(stack) as http:
        site = await lisbon_with_carla(stack, http)
        imp = (await upload(http, site, csv_bytes([HEADERS, ROWS[2]])))["import"]
        await run(http, imp["id"], mode="update", keep_existing=True, dry=False)
        carla = (await http.get(f"/api/v1/sites/{site.key}/contacts", params={"q": "carla@"})).json()[
            "contacts"
        ][0]
        assert (carla["name"], carla["tags"]) == ("Carla Existing", ["vip"])  # the name kept, the tag added


async def test_rejected_rows_download_with_reasons_and_formulas_neutralised(stack: Stack) -> None:
    async with admin(stack) as http:
        site = stack.create_site(contacts={"default_country": "PT"})
        rows = [HEADERS, ['=HYPERLINK("http://evil")', "not-an-email", "", "", ""], ROWS[0]]
        imp = (await upload(http, site, csv_bytes(rows)))["import"]
        await run(http, imp["id"], dry=False)
        got = await http.get(f"/api/v1/imports/{imp['id']}/rejected.csv")
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
        assert "leads-rejected.csv" in got.headers["content-disposition"]
        table = list(csv.reader(io.StringIO(got.text)))
        assert table[0] == ["reason", "row", *HEADERS]
        assert table[1][1:3] == ["1", '\'=HYPERLINK("http://evil")']
        assert table[1][0].startswith("email")
        assert len(table) == 2


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ({"9": "email"}, "no column"),
        ({"0": "email", "1": "email"}, "two columns go to email"),
        ({"3": "tags", "4": "attribute:plan"}, "map a column to a name"),
        ({"0": "password"}, "cannot go to 'password'"),
        ({"0": "attribute:<b>"}, "cannot go to"),
    ],
)
async def test_mapping_errors_are_named(stack: Stack, mapping: dict[str, str], words: str) -> None:
    async with admin(stack) as http:
        site = stack.create_site()
        imp = (await upload(http, site, csv_bytes([HEADERS, *ROWS])))["import"]
        refused = await http.post(f"/api/v1/imports/{imp['id']}/run", json={"mapping": mapping})
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_mapping")
        assert words in refused.json()["message"]


async def test_an_empty_file_is_refused_and_leaves_nothing(stack: Stack) -> None:
    async with admin(stack) as http:
        site = stack.create_site()
        for data in (b"", b"\r\n\r\n"):
            refused = await http.post(f"/api/v1/sites/{site.key}/imports", content=data)
            assert (refused.status_code, refused.json()["code"]) == (422, "import_empty")


async def test_agents_cannot_import(stack: Stack) -> None:
    async with admin(stack, role="agent") as http:
        site = stack.create_site()
        refused = await http.post(f"/api/v1/sites/{site.key}/imports", content=csv_bytes([HEADERS, *ROWS]))
        assert (refused.status_code, refused.json()["code"]) == (403, "admins_only")


async def test_an_import_resumes_after_its_server_is_killed(stack: Stack) -> None:
    rows = [["Name", "Email"], *[[f"Person {i}", f"person{i}@example.com"] for i in range(2500)]]
    async with admin(stack) as http:
        site = stack.create_site()
        imp = (await upload(http, site, csv_bytes(rows, delimiter=",")))["import"]
        started = await http.post(
            f"/api/v1/imports/{imp['id']}/run", json={"mapping": {"0": "name", "1": "email"}, "dry": False}
        )
        assert started.status_code == 202, started.text
        while True:
            state = (await http.get(f"/api/v1/imports/{imp['id']}")).json()["import"]
            if state["rows_done"] > 0:
                break
            await asyncio.sleep(0.01)
        assert state["rows_done"] < 2500, "the import ended before the kill; give it more rows"
        for server in stack.servers:
            server.kill()
        for server in stack.servers:
            server.start()
    async with admin(stack) as http:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            state = (await http.get(f"/api/v1/imports/{imp['id']}")).json()["import"]
            if state["status"] == "done":
                break
            await asyncio.sleep(0.1)
        assert state["status"] == "done", state
        assert (state["rows_done"], state["counts"]["added"], state["counts"]["rejected"]) == (2500, 2500, 0)
        first = await http.get(f"/api/v1/sites/{site.key}/contacts", params={"q": "person2499@"})
        assert len(first.json()["contacts"]) == 1  # each row once, none twice
        page = (await http.get(f"/api/v1/sites/{site.key}/contacts", params={"limit": "200"})).json()
        assert len(page["contacts"]) == 200 and page["next_cursor"]
