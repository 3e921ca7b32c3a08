"""Chromium: find a service by typing two Chinese characters, read its guide, answer the situation questions."""

from __future__ import annotations

import pytest

from app.catalog.services import import_catalogue
from app.demo import seed_departments
from tests.catalog_fixture import catalogue

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
async def test_find_read_and_narrow_the_materials(db, live_server, browser, artifacts, javascript):
    await seed_departments()
    await import_catalogue(catalogue())
    context = await browser.new_context(viewport={"width": 375, "height": 812}, java_script_enabled=javascript)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await page.goto(live_server + "/services")
    box = page.get_by_role("searchbox", name="搜索办事事项").last
    if javascript:
        await box.press_sequentially("出生", delay=50)  # search as you type: no button pressed
    else:
        await box.fill("出生")
        await box.press("Enter")
    await page.get_by_text("找到1个与“出生”相关的事项").wait_for()
    await page.get_by_role("link", name="出生登记").click()
    await page.get_by_role("heading", name="出生登记", level=1).wait_for()
    materials = page.locator("#materials")
    assert "授权委托书" not in await materials.inner_text()
    await page.get_by_label("委托代办").check()
    if not javascript:
        await page.get_by_role("button", name="更新材料清单").click()
    await materials.get_by_text("授权委托书").wait_for()
    assert "代理人身份证" in await materials.inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.screenshot(path=artifacts / f"guide-{'js' if javascript else 'nojs'}.png", full_page=True,
                          caret="initial")
    await context.close()
