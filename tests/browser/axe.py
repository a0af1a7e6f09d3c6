"""axe-core in the browser tests: a page (and open shadow roots, like the widget's) must
have no serious or critical violation. `./dev test` installs axe-core into .cache/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page

AXE = Path(__file__).resolve().parents[2] / ".cache" / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"


async def violations(page: Page) -> list[str]:
    """The serious and critical violations on the page, one line each."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: `./dev test` installs it with npm")
    if not await page.evaluate("typeof window.axe === 'object'"):
        # Through the DevTools protocol, so the pages' Content-Security-Policy does not refuse it.
        await page.evaluate(AXE.read_text(encoding="utf-8") + "\n;void 0")
    found = await page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => `${v.impact} ${v.id}: ${v.help} at `
              + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "))"""
    )
    return list(found)


async def assert_accessible(page: Page, where: str) -> None:
    found = await violations(page)
    assert found == [], f"{where}: " + "\n".join(found)
