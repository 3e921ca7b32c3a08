"""Chromium smoke test: home page, registration, login and activation, at desktop and phone widths."""

from __future__ import annotations

import pytest

from tests import factories as f

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

WIDTHS = {"desktop": (1280, 900), "phone": (375, 812)}


@pytest.mark.parametrize("device", ["desktop", "phone"])
async def test_register_login_and_activate_in_chromium(db, live_server, browser, artifacts, device):
    person = await f.person(name="林晓彤", male=False)
    width, height = WIDTHS[device]
    page = await browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(10_000)
    problems: list[str] = []
    # Screenshots keep the caret (hiding it makes Playwright inject a <style> our CSP rightly blocks).
    # A refused form comes back as 422 by design; Chromium logs that, and nothing else may be logged.
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "(Unprocessable" not in m.text
            else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    await page.goto(live_server + "/")
    assert await page.title() == "首页 - 一网通办网上办事大厅"
    await page.screenshot(path=artifacts / f"home-{device}.png", full_page=True, caret="initial")
    # Nothing overflows sideways on a phone.
    assert await page.evaluate("document.documentElement.scrollWidth") <= width

    await page.get_by_role("link", name="注册", exact=True).first.click()
    mobile = "1370000000" + ("1" if device == "desktop" else "2")
    await page.get_by_label("手机号码").fill(mobile)
    await page.get_by_label("称呼").fill("小林")
    await page.get_by_label("密码", exact=True).fill("short")
    await page.get_by_label("确认密码").fill("short")
    await page.get_by_role("button", name="注册").click()
    await page.get_by_text("密码至少需要8个字符").wait_for()
    assert await page.get_by_label("手机号码").input_value() == mobile  # input kept
    await page.get_by_label("密码", exact=True).fill("银杏叶 落满 情侣路")
    await page.get_by_label("确认密码").fill("银杏叶 落满 情侣路")
    await page.get_by_role("button", name="注册").click()

    await page.get_by_text("注册成功，请登录。").wait_for()
    await page.get_by_label("密码").fill("银杏叶 落满 情侣路")
    await page.get_by_role("button", name="登录").click()
    await page.get_by_role("heading", name="激活个人网页").wait_for()
    await page.get_by_role("link", name="立即激活").click()

    await page.get_by_label("身份证号码").fill(person.id_number[:17] + ("0" if person.id_number[17] != "0" else "1"))
    await page.get_by_label("社会保障卡号").fill(person.ssc_number)
    await page.get_by_role("button", name="激活").click()
    await page.get_by_text("校验位（最后一位）不正确").wait_for()
    await page.screenshot(path=artifacts / f"activate-error-{device}.png", full_page=True, caret="initial")
    await page.get_by_label("身份证号码").fill(person.id_number)
    await page.get_by_role("button", name="激活").click()

    await page.get_by_text("您的个人网页已激活。").wait_for()
    body = await page.inner_text("main")
    assert "林晓彤" in body
    assert person.id_number not in body
    await page.screenshot(path=artifacts / f"me-{device}.png", full_page=True, caret="initial")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    assert problems == []
    await page.close()
