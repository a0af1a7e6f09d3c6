"""``python -m bench widget``: what the widget costs a host page, measured in Chromium.

A Parley server (fresh SQLite) and the demo shop run on loopback; Chromium
loads the shop's home page with the widget and, as the baseline in the same
run, the same page without it (``?nowidget``). Figures:

- ``loader_gzip_bytes``: /widget.js as sent with ``Accept-Encoding: gzip`` (goal <= 2,048).
- ``open_chat_gzip_bytes``: every HTTP response from the Parley server that an
  open chat needed (loader, config, core, panel, history), each measured as
  sent gzip-compressed (goal <= 25,600). WebSocket frames are conversation
  data, not widget code, and are reported apart (``open_chat_ws_bytes``).
- ``longest_task_ms``: the longest main-thread task of the host page that ran
  the widget's code, from a Chrome trace of loading the page, opening the
  chat and receiving a reply (goal < 50); ``longest_task_ms_bare`` is the
  longest task of the bare page, for scale.
- ``launcher_visible_ms``: from navigation start to the frame after the
  launcher is in the page (the loader's ``parley:launcher`` mark), median of
  fresh-profile loads (goal <= 300); ``bare_fcp_ms`` is the bare page's first
  contentful paint, for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from functools import partial
from typing import Any

import httpx

from bench import report
from bench.servers import CHROMIUM, CHROMIUM_ARGS, Server, demo_shop, parley_env, parley_server
from server.accounts.store import create_user
from server.config import load_settings
from server.db import Database
from server.db.migrate import upgrade
from server.onboarding import open_site

SCRIPT_EVENTS = {"EvaluateScript", "FunctionCall", "v8.compile", "v8.compileModule", "CompileScript"}
TRACE = ["toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute"]
GOALS = {
    "loader_gzip_bytes": "<= 2048",
    "open_chat_gzip_bytes": "<= 25600",
    "longest_task_ms": "< 50",
    "launcher_visible_ms": "<= 300",
}


AGENT = ("bench@bench.example", "bench-password")


def _seed(env: dict[str, str]) -> str:
    """The shop's site and an agent to answer; returns the site key."""
    settings = load_settings(env)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    try:
        site = db.write_sync(
            lambda c: open_site(c, name="Bench shop", key="bench", allowed_domains=["127.0.0.1"])
        )
        db.write_sync(
            lambda c: create_user(c, email=AGENT[0], name="Bench Agent", password=AGENT[1], role="agent")
        )
    finally:
        db.close()
    return site.key


# The first contentful paint, waited for (it is recorded after the frame is shown).
FCP = """new Promise(done => new PerformanceObserver((list, observer) => {
  const paint = list.getEntriesByName('first-contentful-paint')[0];
  if (paint) { observer.disconnect(); done(paint.startTime); }
}).observe({type: 'paint', buffered: true}))"""


def _note(into: list[str], base: str, response: Any) -> None:
    if response.url.startswith(base):
        into.append(response.url)


def gzip_size(url: str) -> int:
    with httpx.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
        return sum(len(chunk) for chunk in response.iter_raw())


def _tasks(trace: dict[str, Any], origin: str) -> tuple[float, float]:
    """(the longest the widget's code held the page's main thread within one task, the longest task), in ms.

    The widget's share of a task is the time of its top-level script events in
    it (running or compiling its files, or calling its functions), which
    includes any style or layout work its code forced.
    """
    events = trace["traceEvents"]
    mains = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("name") == "thread_name" and e.get("args", {}).get("name") == "CrRendererMain"
    }
    tasks = [
        e
        for e in events
        if e.get("name") == "RunTask" and e.get("ph") == "X" and (e["pid"], e["tid"]) in mains and "dur" in e
    ]
    ours = sorted(
        (
            e
            for e in events
            if (e.get("pid"), e.get("tid")) in mains
            and e.get("name") in SCRIPT_EVENTS
            and "dur" in e
            and str(e.get("args", {}).get("data", {}).get("url", "")).startswith(origin + "/widget")
        ),
        key=lambda e: e["ts"],
    )
    longest_ours = 0.0
    for task in tasks:
        start, end = task["ts"], task["ts"] + task["dur"]
        spent, covered = 0.0, start
        for event in ours:
            if (event["pid"], event["tid"]) != (task["pid"], task["tid"]) or not start <= event["ts"] <= end:
                continue
            if event["ts"] >= covered:  # top-level only: nested calls are inside their parent's time
                spent += event["dur"]
                covered = event["ts"] + event["dur"]
        longest_ours = max(longest_ours, spent / 1000)
    longest_all = max((t["dur"] / 1000 for t in tasks), default=0.0)
    return round(longest_ours, 1), round(longest_all, 1)


async def _measure(
    base: str, shop: Server, runs: int, sessions: int, login: tuple[str, str]
) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    from parley_client import AgentClient

    figures: dict[str, Any] = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # Warm Chromium itself up once, then fresh profiles for each measured load.
            warm = await browser.new_context()
            await (await warm.new_page()).goto(shop.base_url + "/?nowidget")
            await warm.close()

            launcher, fcp = [], []
            for _ in range(runs):
                context = await browser.new_context()
                page = await context.new_page()
                await page.goto(shop.base_url + "/?nowidget")
                fcp.append(await page.evaluate(FCP))
                await context.close()
                context = await browser.new_context()
                page = await context.new_page()
                await page.goto(shop.base_url + "/")
                await page.wait_for_function("performance.getEntriesByName('parley:launcher').length > 0")
                launcher.append(
                    await page.evaluate("performance.getEntriesByName('parley:launcher')[0].startTime")
                )
                await context.close()
            figures["launcher_visible_ms"] = round(statistics.median(launcher), 1)
            figures["bare_fcp_ms"] = round(statistics.median(fcp), 1)

            # The bare page's longest task, for scale.
            bare = []
            for _ in range(sessions):
                context = await browser.new_context()
                page = await context.new_page()
                await browser.start_tracing(page=page, categories=TRACE)
                await page.goto(shop.base_url + "/?nowidget")
                await page.wait_for_timeout(1000)
                bare.append(_tasks(json.loads(await browser.stop_tracing()), base)[1])
                await context.close()
            figures["longest_task_ms_bare"] = statistics.median(bare)

            # Open chats: load, open, write, get a reply, load the next page; traced.
            agent = AgentClient(base, *login)
            await agent.connect()
            ours, longest = [], []
            for _ in range(sessions):
                context = await browser.new_context()
                page = await context.new_page()
                responses: list[str] = []
                ws_bytes = 0

                def on_ws(ws: Any) -> None:
                    def count(payload: str | bytes) -> None:
                        nonlocal ws_bytes
                        ws_bytes += len(payload if isinstance(payload, bytes) else payload.encode())

                    ws.on("framereceived", count)

                page.on("response", partial(_note, responses, base))
                page.on("websocket", on_ws)
                await browser.start_tracing(page=page, categories=TRACE)
                await page.goto(shop.base_url + "/")
                launcher_button = page.locator("[data-parley] button.l")
                await launcher_button.click()
                composer = page.locator("[data-parley] textarea")
                await composer.fill("How long does shipping take?")
                await composer.press("Enter")
                await page.locator("[data-parley] .m", has_text="Sent").wait_for()
                await agent.send("Two days, tracked.", await page.evaluate("Parley._.m.id"))
                await page.locator("[data-parley] .m", has_text="Two days").wait_for()
                await page.reload()  # the next page of the visit: history comes over HTTP
                await launcher_button.click()
                await page.locator("[data-parley] .m", has_text="Two days").wait_for()
                await page.wait_for_timeout(300)
                widget_ms, task_ms = _tasks(json.loads(await browser.stop_tracing()), base)
                ours.append(widget_ms)
                longest.append(task_ms)
                await context.close()
            await agent.close()
            print(f"widget's longest share of a task per session (ms): {ours}", file=sys.stderr)
            figures["longest_task_ms"] = statistics.median(ours)
            figures["longest_task_ms_worst"] = max(ours)
            figures["longest_task_ms_page"] = statistics.median(longest)
            unique = sorted(set(responses))
            figures["open_chat_gzip_bytes"] = sum(gzip_size(u) for u in unique)
            figures["open_chat_requests"] = len(unique)
            figures["open_chat_ws_bytes"] = ws_bytes
        finally:
            await browser.close()
    return figures


def run(args: argparse.Namespace) -> dict[str, Any]:
    env = parley_env(None)
    key = _seed(env)
    server: Server = parley_server(env)
    shop = demo_shop(server.base_url, key)
    try:
        figures: dict[str, Any] = {
            "loader_gzip_bytes": gzip_size(server.base_url + "/widget.js"),
        }
        figures.update(asyncio.run(_measure(server.base_url, shop, args.runs, args.sessions, AGENT)))
    finally:
        shop.stop()
        server.stop()
    order = [
        "loader_gzip_bytes",
        "open_chat_gzip_bytes",
        "longest_task_ms",
        "launcher_visible_ms",
        "open_chat_requests",
        "open_chat_ws_bytes",
        "longest_task_ms_worst",
        "longest_task_ms_page",
        "longest_task_ms_bare",
        "bare_fcp_ms",
    ]
    return {k: figures[k] for k in order}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench widget")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    parser.add_argument("--runs", type=int, default=7, help="fresh-profile page loads for the launcher time")
    parser.add_argument("--sessions", type=int, default=5, help="traced open-chat sessions (median)")
    args = parser.parse_args(argv)
    report(run(args), GOALS, args.json)
    return 0
