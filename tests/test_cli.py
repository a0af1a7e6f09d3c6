"""The ``parley`` command, run as a user would run it."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import ROOT, free_port


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.update({"PARLEY_DATA_DIR": str(tmp_path / "data"), "PARLEY_ENV_FILE": str(tmp_path / ".env")})
    env.update(extra)
    return env


def parley(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        env=_env(tmp_path, **extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_migrate_create_user_and_site(tmp_path: Path) -> None:
    done = parley(tmp_path, "migrate")
    assert done.returncode == 0, done.stderr
    assert "revision 0015" in done.stdout
    assert parley(tmp_path, "migrate").returncode == 0  # idempotent

    made = parley(
        tmp_path,
        "create-user",
        "--email",
        "Ana@Shop.example",
        "--role",
        "admin",
        PARLEY_PASSWORD="long-enough-1",
    )
    assert made.returncode == 0 and "created admin ana@shop.example" in made.stdout
    again = parley(tmp_path, "create-user", "--email", "ana@shop.example", PARLEY_PASSWORD="long-enough-1")
    assert again.returncode != 0 and "email_taken" in again.stderr
    short = parley(tmp_path, "create-user", "--email", "b@shop.example", PARLEY_PASSWORD="short")
    assert short.returncode != 0 and "password_too_short" in short.stderr

    site = parley(
        tmp_path,
        "create-site",
        "--name",
        "Shop",
        "--domain",
        "https://Shop.example/",
        "--domain",
        "*.shop.example",
        "--key",
        "shop",
    )
    assert site.returncode == 0, site.stderr
    assert "key shop, allowed domains shop.example, *.shop.example" in site.stdout
    bad = parley(tmp_path, "create-site", "--name", "Bad", "--domain", "sh*p.example")
    assert bad.returncode != 0 and "invalid_domain" in bad.stderr


def test_a_site_cannot_allow_a_whole_public_suffix(tmp_path: Path) -> None:
    assert parley(tmp_path, "migrate").returncode == 0
    for domain in ("*.com", "co.uk", "*.co.uk", "github.io"):
        refused = parley(tmp_path, "create-site", "--name", "Everyone", "--domain", domain)
        assert refused.returncode != 0 and "invalid_domain" in refused.stderr, (domain, refused.stderr)
        assert "public suffix" in refused.stderr or "top-level domain" in refused.stderr
    mine = parley(
        tmp_path, "create-site", "--name", "Mine", "--domain", "*.shop.co.uk", "--domain", "localhost"
    )
    assert mine.returncode == 0, mine.stderr


def test_bad_configuration_fails_loudly_with_the_variable_name(tmp_path: Path) -> None:
    done = parley(tmp_path, "migrate", PARLEY_DATABASE_URL="mysql://nope")
    assert done.returncode != 0 and "PARLEY_DATABASE_URL" in done.stderr
    done = parley(tmp_path, "migrate", PARLEY_MAX_MESSAGE_CHARS="lots")
    assert done.returncode != 0 and "PARLEY_MAX_MESSAGE_CHARS='lots'" in done.stderr
    done = parley(tmp_path, "migrate", PARLEY_SECRET_KEY="short")
    assert done.returncode != 0 and "PARLEY_SECRET_KEY" in done.stderr


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    done = parley(tmp_path, "serve", "--port", str(free_port()))
    assert done.returncode != 0 and "run `parley migrate` first" in done.stderr


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``parley demo`` as a newcomer runs it: its URL and the printed passwords."""
    port, shop_port = free_port(), free_port()
    log_path = tmp_path / "demo.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "demo", "--port", str(port), "--shop-port", str(shop_port)],
            env=_env(tmp_path),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        output = log_path.read_text()
        assert "site key:  demo" in output, output
        assert f"http://127.0.0.1:{shop_port}/" in output, output
        for path in ("/", "/pricing", "/product", "/checkout", "/app"):
            shop = httpx.get(f"http://127.0.0.1:{shop_port}{path}", timeout=5)
            assert shop.status_code == 200
            assert f'src="{base}/widget.js" data-site="demo"' in shop.text
        yield base, dict(re.findall(r"(admin|agent)\s+\S+\s+password: (\S+)", output))
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.anyio
async def test_demo_seeds_a_site_and_accounts_that_work(demo: tuple[str, dict[str, str]]) -> None:
    from parley_client import AgentClient, VisitorClient

    base, passwords = demo
    assert set(passwords) == {"admin", "agent"}
    port = base.rsplit(":", 1)[1]
    visitor = VisitorClient(base, "demo", origin=f"http://localhost:{port}")
    await visitor.connect()
    cid = (await visitor.send("hello from the demo"))["conversation_id"]
    # The demo's greeting bot answers first, with quick replies.
    asked = await visitor.next_event("message.created")
    while "buttons" not in asked["message"]:
        asked = await visitor.next_event("message.created")
    assert asked["message"]["author"]["name"] == "Kettle bot"
    assert asked["message"]["buttons"] == ["Track my order", "Returns", "Something else"]
    agent = AgentClient(base, "agent@parley.example", passwords["agent"])
    await agent.connect()
    await agent.send("welcome to the demo!", cid)
    got = await visitor.next_event("message.created")
    while got["message"]["author"]["type"] != "agent":
        got = await visitor.next_event("message.created")
    assert got["message"]["text"] == "welcome to the demo!"
    await visitor.close()
    await agent.close()
    async with httpx.AsyncClient(base_url=base) as http:
        await http.post(
            "/api/v1/auth/login", json={"email": "admin@parley.example", "password": passwords["admin"]}
        )
        listed = (await http.get("/api/v1/sites/demo/proactive")).json()["messages"]
    live = [m for m in listed if m["status"] == "live"]
    assert [m["name"] for m in live] == ["Pricing: ask for an email after 10 s"]
    assert len(listed) == 4  # and the three predefined drafts


def test_create_token_prints_a_token_the_running_server_takes(
    tmp_path: Path, demo: tuple[str, dict[str, str]]
) -> None:
    base, _ = demo
    made = parley(
        tmp_path, "create-token", "--site", "demo", "--name", "Shop backend", "--scope", "contacts:read"
    )
    assert made.returncode == 0, made.stderr
    assert "created API token 'Shop backend'" in made.stdout and "contacts:read" in made.stdout
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("pat_")
    headers = {"Authorization": f"Bearer {secret}"}
    listed = httpx.get(f"{base}/api/v1/sites/demo/contacts", headers=headers, timeout=10)
    assert listed.status_code == 200 and listed.json()["contacts"], listed.text
    wrote = httpx.post(f"{base}/api/v1/sites/demo/contacts", headers=headers, json={"name": "X"}, timeout=10)
    assert wrote.status_code == 403 and wrote.json()["code"] == "scope_missing"
    bad = parley(tmp_path, "create-token", "--site", "demo", "--name", "x", "--scope", "everything")
    assert bad.returncode != 0 and "invalid_scope" in bad.stderr
    nowhere = parley(tmp_path, "create-token", "--site", "nope", "--name", "x", "--scope", "contacts:read")
    assert nowhere.returncode != 0 and "site_unknown" in nowhere.stderr


@pytest.mark.anyio
async def test_the_demo_has_contacts_and_a_sample_csv_that_imports(demo: tuple[str, dict[str, str]]) -> None:
    base, passwords = demo
    async with httpx.AsyncClient(base_url=base) as http:
        signed = await http.post(
            "/api/v1/auth/login", json={"email": "admin@parley.example", "password": passwords["admin"]}
        )
        http.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
        vip = (await http.get("/api/v1/sites/demo/contacts", params={"tag": "vip"})).json()["contacts"]
        assert [c["name"] for c in vip] == ["Rita Lopes"]
        found = (await http.get("/api/v1/sites/demo/contact-fields")).json()["fields"]
        assert [(f["key"], f["type"]) for f in found] == [
            ("plan", "choice"),
            ("city", "text"),
            ("seats", "number"),
        ]
        pros = (
            await http.get("/api/v1/sites/demo/contacts", params={"field": "seats", "value": "12"})
        ).json()
        assert [c["name"] for c in pros["contacts"]] == ["Rita Lopes"]
        sample = (ROOT / "demo_site" / "contacts.csv").read_bytes()
        made = (
            await http.post(
                "/api/v1/sites/demo/imports", content=sample, headers={"X-Filename": "contacts.csv"}
            )
        ).json()
        imp = made["import"]
        assert (imp["rows_total"], imp["delimiter"]) == (7, ";")
        mapping = {**imp["mapping"], "4": "attribute:plan", "5": "attribute:city"}
        await http.post(f"/api/v1/imports/{imp['id']}/run", json={"mapping": mapping, "dry": True})
        for _ in range(200):
            state = (await http.get(f"/api/v1/imports/{imp['id']}")).json()["import"]
            if state["status"] == "done":
                break
            await asyncio.sleep(0.05)
        counts = {k: state["counts"][k] for k in ("added", "updated", "skipped", "rejected")}
        assert counts == {"added": 4, "updated": 1, "skipped": 0, "rejected": 2}  # Rita is there already
