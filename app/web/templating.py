"""The Jinja environment (autoescape, gettext, filters) and the one-URL-two-renderings helper."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from litestar import MediaType, Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig
from markupsafe import Markup

from app.filings.storage import limits
from app.filings.workflow import state_label, step_label
from app.i18n import fmt_date, fmt_datetime, translations
from app.registry.validators import mask_id_number, mask_mobile, mask_name
from app.settings import ROOT, get_settings
from app.web.display import elderly_mode, return_path
from app.web.flash import flash_message


def _template_gettext(string: str, **variables: Any) -> Markup:
    """`_()` and `gettext()` in templates: what Jinja's newstyle gettext does with autoescape on (the translation
    is markup, the variables are escaped into it, and it is always %-formatted), as a plain function. Jinja's own
    is context-bound, and a context-bound call inside a loop or block builds a derived context each time: on a
    page of fifty timeline lines, a fifth of the render."""
    return Markup(translations().gettext(string)) % variables  # noqa: S704 - our own catalogue; variables escaped


def _template_ngettext(singular: str, plural: str, num: int, **variables: Any) -> Markup:
    variables.setdefault("num", num)
    return Markup(translations().ngettext(singular, plural, num)) % variables  # noqa: S704 - as above


class PretranslatedText(Extension):
    """`_("text")` with no variables becomes its translation when the template is compiled: a process serves one
    locale, and its catalogue is read at startup. The result is what the call would give (markup, %-formatted
    once), without a call per render; a page such as /me has some forty of them."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        window: list[Token] = []
        for token in stream:
            window.append(token)
            if len(window) < 4:
                continue
            name, lparen, text, rparen = window
            if (name.type == "name" and name.value in ("_", "gettext") and lparen.type == "lparen"
                    and text.type == "string" and rparen.type == "rparen"):
                translated = _template_gettext(text.value)
                line = name.lineno
                yield from (Token(line, "lparen", "("), Token(line, "string", str(translated)),
                            Token(line, "pipe", "|"), Token(line, "name", "safe"), Token(line, "rparen", ")"))
                window = []
            else:
                yield window.pop(0)
        yield from window


_DICT_ATTRIBUTES = frozenset(dir(dict))


class RowEnvironment(Environment):
    """Jinja's environment, reading a dict's keys (the rows our queries return) as `row.name` without first trying
    the attribute: Jinja asks getattr() first, which fails with an exception for every key of a dict. The result is
    the same (a dict's own methods still win, as in Jinja); /me reads some 500 such keys a page."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def make_environment() -> Environment:
    env = RowEnvironment(
        loader=FileSystemLoader([str(ROOT)]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n", PretranslatedText],
        trim_blocks=True,
        lstrip_blocks=True,
        # Checking every template file's time on each render is for development only.
        auto_reload=get_settings().debug,
    )
    env.install_gettext_translations(translations(), newstyle=True)  # type: ignore[attr-defined]
    # Every template is autoescaped (select_autoescape above has default=True), so the plain functions fit all.
    env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext)
    env.filters.update(
        mask_id=mask_id_number,
        mask_name=mask_name,
        mask_mobile=mask_mobile,
        date=fmt_date,
        datetime=fmt_datetime,
    )
    env.globals.update(flash_message=flash_message, elderly_mode=elderly_mode, return_path=return_path)
    env.globals["upload_mb"] = lambda: limits().max_bytes // 1_000_000
    env.globals.update(state_label=state_label, step_label=step_label)
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(make_environment()))


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    """An htmx request that wants a fragment (a boosted navigation wants the whole page)."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"


def render(
    request: Request[Any, Any, Any],
    page: str,
    component: str | None = None,
    /,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """Plain requests get the page; htmx requests to the same URL get the component it includes."""
    name = component if component and is_htmx(request) else page
    return Template(template_name=name, context=context, status_code=status_code, media_type=MediaType.HTML)
