"""The operators' console in a real browser, against a hub started as `make run` starts it:
operator-sh signs in, sees the demo's pending recognitions, approves one and sees its certificate
verified, rejects the other with a reason, and looks at the dashboard and rulesets; a Jiangsu
operator does not see Shanghai's queue; the pages work from the keyboard and pass axe-core's
WCAG 2 A/AA rules in both languages. Each page's screenshot is saved under test-artifacts/console/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import console_password
from tests.demo_hub import DemoHub

pytestmark = pytest.mark.browser
PUHUI = [sys.executable, "-m", "hub.cli.main"]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def _accessible(page: Any) -> None:
    """axe-core (vendored by axe-playwright-python) finds no violation of WCAG 2.1 A/AA or its
    best practices on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def _shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert (folder / f"{name}.png").stat().st_size > 1000


def _sign_in(page: Any, hub: DemoHub, username: str) -> None:
    page.goto(f"{hub.base}/console")
    assert page.url.endswith("/console/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(console_password(hub, username))
    page.locator("#password").press("Enter")
    page.wait_for_url(f"{hub.base}/console")


def test_an_operator_reviews_the_demo_queue(browser: Any, hub: DemoHub, artifacts: Path) -> None:
    context = browser.new_context(locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    complaints: list[str] = []  # what the browser reports: a Content-Security-Policy violation would show
    page.on("console", lambda message: complaints.append(message.text))

    page.goto(f"{hub.base}/console")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", level=1).inner_text() == "登录"
    _accessible(page)
    _shot(page, artifacts, "01-sign-in")

    _sign_in(page, hub, "operator-sh")
    assert page.get_by_role("heading", level=1).inner_text() == "待审核互认申请（SH）"
    rows = page.locator("table tbody tr")
    assert rows.count() == 2
    assert "RR-2026-0001" in rows.nth(0).inner_text() and "RR-2026-0003" in rows.nth(1).inner_text()
    _accessible(page)
    _shot(page, artifacts, "02-queue-zh")

    page.get_by_role("link", name="English").click()
    page.wait_for_url(f"{hub.base}/console")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Pending recognitions — SH"
    kunshan = page.get_by_role("row", name="RR-2026-0001")
    assert not kunshan.get_by_text("3026 passed").is_visible()
    kunshan.get_by_text("checks passed").click()  # the <details> opens
    assert kunshan.get_by_text("3026 passed").is_visible()
    _accessible(page)
    _shot(page, artifacts, "03-queue-en")

    page.get_by_role("link", name="RR-2026-0001").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recognition RR-2026-0001")
    _accessible(page)
    _shot(page, artifacts, "04-decision")
    page.get_by_role("button", name="Approve").click()  # no reason: the browser keeps the form
    assert page.locator("#reason:invalid").count() == 1
    assert page.get_by_role("button", name="Approve").is_visible()
    page.get_by_label("Reason (required)").fill("Meets the YRD rules; within the 5 % offset limit")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_selector("#verify")
    expect(page.get_by_text("Approved", exact=True)).to_be_visible()
    verification = page.get_by_role("table", name="The certificate's signature and its proof of inclusion")
    assert "✓ verified with the hub's published key" in verification.inner_text()
    assert "✓ names this certificate's digest" in verification.inner_text()
    assert "✓ proven included in the current log (RFC 9162)" in verification.inner_text()
    _accessible(page)
    _shot(page, artifacts, "05-certificate-verified")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the certificate").click()
    saved = artifacts / "certificate.json"
    download.value.save_as(saved)
    offline = subprocess.run(
        [*PUHUI, "certificates", "verify", str(saved), "--jwks", f"{hub.base}/.well-known/jwks.json"],
        capture_output=True,
        text=True,
        env=hub.env,
        check=False,
    )
    assert offline.returncode == 0 and "valid certificate" in offline.stdout, offline.stdout + offline.stderr

    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pending recognitions — SH")
    expect(page.locator("table tbody tr")).to_have_count(1)
    page.get_by_role("link", name="RR-2026-0003").click()
    page.get_by_label("Reason (required)").fill("The event's neutralization plan was withdrawn")
    page.get_by_role("button", name="Reject").click()
    page.wait_for_url("**/console/recognitions/**")
    expect(page.get_by_text("Rejected", exact=True)).to_be_visible()
    assert page.get_by_text("The event's neutralization plan was withdrawn").is_visible()
    _accessible(page)
    _shot(page, artifacts, "06-rejected")

    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_text("Nothing to review.")).to_be_visible()

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Federation dashboard")
    # the dashboard leads with the map of flows between regions (the seeded history's, and the
    # recognition just approved), before any chart or table
    flow_map = page.get_by_role(
        "img", name="Map of flows between regions (origin → destination, tonnes recognized and transferred)"
    )
    assert flow_map.is_visible()
    assert (
        page.locator("main figure svg").first.get_attribute("aria-labelledby")
        == "flow-map-title flow-map-desc"
    )
    drawn = flow_map.inner_html()
    assert flow_map.locator("g.flow").count() >= 5 and flow_map.locator("g.region").count() == 5
    assert "CCER" in drawn and "marker-end" in drawn
    described = flow_map.locator("desc").text_content() or ""
    assert "→" in described and "tCO2e" in described
    chart = page.get_by_role("img", name="Flows between regions (tonnes recognized and transferred)")
    assert "JS → SH" in chart.inner_html() and "120 tCO2e" in chart.inner_html()
    assert page.get_by_role("table", name="Origin × destination (tonnes)").is_visible()
    with page.expect_download() as exported:
        page.get_by_role("link", name="Download CSV: Flows between regions").click()
    assert exported.value.suggested_filename == "flows.csv"
    _accessible(page)
    _shot(page, artifacts, "07-dashboard")

    page.get_by_role("link", name="Rulesets").click()
    expect(page.get_by_role("heading", name="yrd-recognition: what changed from v1 to v2")).to_be_visible()
    _accessible(page)
    _shot(page, artifacts, "08-rulesets")

    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("互认规则")
    _accessible(page)
    page.get_by_role("link", name="联盟概览").click()
    flow_map_zh = page.get_by_role("img", name="区域间流向图（来源 → 目的地，已互认与已转移的吨数）")
    expect(flow_map_zh).to_be_visible()
    assert "上海碳普惠平台" in (page.locator("#flow-map-desc").text_content() or "")
    _accessible(page)
    _shot(page, artifacts, "09-dashboard-zh")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{hub.base}/console/login")
    page.goto(f"{hub.base}/console")
    assert page.url.endswith("/console/login")
    assert not [text for text in complaints if "Content Security Policy" in text], complaints
    context.close()


def test_a_jiangsu_operator_does_not_see_shanghais_queue(browser: Any, hub: DemoHub, artifacts: Path) -> None:
    from hub.client import PlatformClient

    with PlatformClient.from_credentials(hub.credentials / "operator-sh.json", base_url=hub.base) as api:
        anhui = next(r for r in api.get("/v1/recognitions") if r["origin"] == "AH")
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    _sign_in(page, hub, "operator-js")
    assert page.get_by_role("heading", level=1).inner_text() == "Pending recognitions — JS"
    assert page.get_by_text("Nothing to review.").is_visible()
    assert "RR-2026-0003" not in page.content() and "RR-2026-0001" not in page.content()
    _shot(page, artifacts, "jiangsu-queue")
    response = page.goto(f"{hub.base}/console/recognitions/{anhui['id']}")
    assert response is not None and response.status == 404
    assert page.get_by_role("alert").inner_text() == "No such recognition."
    _accessible(page)
    context.close()


def test_the_console_works_from_the_keyboard(browser: Any, hub: DemoHub, artifacts: Path) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{hub.base}/console/login")
    assert page.evaluate("document.activeElement.id") == "username"  # the form's first field has focus
    page.keyboard.type("operator-sh")
    page.keyboard.press("Tab")
    page.keyboard.type(console_password(hub, "operator-sh"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{hub.base}/console")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    _shot(page, artifacts, "skip-link")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "origin"  # the first control in the main part

    page.reload()
    order = []
    for _ in range(12):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    assert order[:4] == ["Skip to main content", "Review queue", "Dashboard", "Rulesets"]
    assert order.index("Sign out") < order.index("中文") < order.index("origin") < order.index("Apply")
    context.close()
