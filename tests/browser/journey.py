"""What the browser journeys share: one page per person at one width (JavaScript on or off), logging in through
the form, a screenshot of each step under test-artifacts/<engine>/journeys/, and the checks that a page fits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests import factories
from tests.browser.conftest import ARTIFACTS

JOURNEYS = ARTIFACTS / "journeys"
# The journeys' variants: both widths with JavaScript, and the phone again with plain forms and links only.
WIDTHS = [1280, 375]
HEIGHTS = {1280: 900, 375: 812}
# Lazy images load as the person scrolls to them; a full-page screenshot does not scroll, so load them first.
IMAGES_DRAWN = """async () => {
  const images = [...document.images];
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.filter(img => !img.complete).map(img => new Promise(done => {
    img.addEventListener("load", done); img.addEventListener("error", done); })));
  return images.filter(img => img.naturalWidth === 0).map(img => img.currentSrc || img.src);
}"""


@dataclass
class Screen:
    """A person's own browser context (cookies of their own) at one width."""

    page: Any
    base: str
    width: int
    javascript: bool = True
    problems: list[str] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return f"{self.width}" if self.javascript else f"{self.width}-nojs"

    async def go(self, path: str) -> None:
        await self.page.goto(self.base + path)

    async def shot(self, step: str) -> None:
        """The whole page as the person sees it once scrolled through: every image drawn, nothing pushing it wider
        than the screen."""
        JOURNEYS.mkdir(parents=True, exist_ok=True)
        broken = await self.page.evaluate(IMAGES_DRAWN)
        assert broken == [], f"{step}: images not drawn: {broken}"
        # The caret stays (hiding it makes Playwright inject a <style> our CSP rightly blocks).
        await self.page.screenshot(path=JOURNEYS / f"{step}-{self.tag}.png", full_page=True, caret="initial")
        assert await self.page.evaluate("document.documentElement.scrollWidth") <= self.width, step

    async def reachable(self, locator: Any) -> Any:
        """A control the person must use is shown, whole, within the screen's width."""
        await locator.wait_for(state="visible")
        box = await locator.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= self.width, box
        return locator


async def screen(browser: Any, base: str, width: int, *, javascript: bool = True) -> Screen:
    context = await browser.new_context(viewport={"width": width, "height": HEIGHTS.get(width, 900)},
                                        java_script_enabled=javascript, accept_downloads=True,
                                        locale="zh-CN", timezone_id="Asia/Shanghai")
    page = await context.new_page()
    page.set_default_timeout(15_000)
    s = Screen(page, base, width, javascript)
    # A refused form comes back as 422 by design; Chromium logs that, and nothing else may be logged.
    page.on("console", lambda m: s.problems.append(m.text) if m.type == "error" and "(Unprocessable" not in m.text
            else None)
    page.on("pageerror", lambda e: s.problems.append(str(e)))
    return s


async def log_in(s: Screen, mobile: str, password: str = factories.PASSWORD) -> None:
    await s.go("/login")
    await s.page.get_by_label("手机号码").fill(mobile)
    await s.page.get_by_label("密码").fill(password)
    await (await s.reachable(s.page.get_by_role("button", name="登录"))).click()
    await s.page.get_by_text("欢迎回来。").wait_for()
