"""The Jinja environment (autoescape, gettext, filters) and the one-URL-two-renderings helper."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from types import BuiltinFunctionType, FunctionType
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.runtime import Context
from litestar import MediaType, Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig
from markupsafe import Markup, _escape_inner  # markupsafe 3: the C escaping inside escape()

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
    return _filled(translations().gettext(string), variables)


def _template_ngettext(singular: str, plural: str, num: int, **variables: Any) -> Markup:
    variables.setdefault("num", num)
    return _filled(translations().ngettext(singular, plural, num), variables)


def _filled(translation: str, variables: dict[str, Any]) -> Markup:
    """`Markup(translation) % variables`, the same markup: numbers go in as they are (`%(num)d`), anything else
    escaped; without the wrapper object markupsafe builds around each value and the mapping."""
    values = {k: v if isinstance(v, int | float) else escape_output(v) for k, v in variables.items()}
    return Markup(translation % values)  # noqa: S704 - our own catalogue; the values are escaped


def upload_mb() -> int:
    """The per-file upload limit in MB, for the hints beside file fields."""
    return limits().max_bytes // 1_000_000


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


class PlainCallContext(Context):
    """Jinja's context, calling our own plain global functions (`_`, `ngettext`, `state_label`…) and built-ins
    (`errors.get`) straight away. Jinja routes every call in a template through `Context.call`, which first looks
    for `pass_context`-style marks on the callable and its `__call__`: a tenth of the case page's render. Neither
    kind can carry such a mark (built-ins take no attributes; ours are listed in `plain_functions`, see
    make_environment), so the call is the same; anything else goes through Jinja's own."""

    def call(self, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        kind = type(obj)
        if kind is BuiltinFunctionType or (kind is FunctionType and obj in self.environment.plain_functions):
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            return obj(*args, **kwargs)
        return super().call(obj, *args, **kwargs)


class OutputEscaping(CodeGenerator):
    """Jinja's compiler, with `{{ value }}` in an autoescaped template written as `escape_output(value)`: the escaped
    text as a plain string, where markupsafe's `escape` wraps it in a Markup object (a Python-level constructor) that
    the output only joins into the page. Everything Jinja buffers instead of yielding (macros, `{% set %}` blocks,
    `caller()`) it wraps in Markup itself when autoescaping, so no value is escaped twice. Those Markup objects were a
    seventh of the case page's render."""

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.escape_output(")
        if finalize.src is not None:
            self.write(finalize.src)


def escape_output(value: Any) -> str:
    """markupsafe.escape(value), as a str: what its C part (`_escape_inner`) returns, Markup's own text unchanged."""
    if type(value) is str:
        return _escape_inner(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escape_inner(str(value))


class RowEnvironment(Environment):
    """Jinja's environment, escaping output without Markup objects (OutputEscaping), calling plain functions
    directly (PlainCallContext), and reading a dict's keys (the rows our queries return) as `row.name` without first
    trying the attribute: Jinja asks getattr() first, which fails with an exception for every key of a dict. The
    result is the same (a dict's own methods still win, as in Jinja); /me reads some 500 such keys a page."""

    context_class = PlainCallContext
    code_generator_class = OutputEscaping
    escape_output = staticmethod(escape_output)
    plain_functions: frozenset[Any] = frozenset()

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals are the environment's own dict when it brings none of its own (ours never do), not a
        ChainMap over it: Jinja iterates a template's globals to build every context (the page's, and each include's
        and import's), and iterating a ChainMap costs some twenty times a dict's: a quarter of the case page's render.
        Templates never write their globals, so sharing the one dict changes nothing else."""
        return self.globals if not d else super().make_globals(d)


def make_environment() -> Environment:
    env = RowEnvironment(
        loader=FileSystemLoader([str(ROOT)]),
        # Every template, whatever its name: a constant, not a function of the name asked for each context.
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n", PretranslatedText],
        trim_blocks=True,
        lstrip_blocks=True,
        # Checking every template file's time on each render is for development only.
        auto_reload=get_settings().debug,
        # Our templates are the files in the repository, a bounded set: a plain dict keeps them all, where the
        # default LRU takes a lock and reorders a queue on every include and extends.
        cache_size=-1,
    )
    env.install_gettext_translations(translations(), newstyle=True)  # type: ignore[attr-defined]
    # Every template is autoescaped (autoescape=True above), so the plain gettext functions fit all.
    plain = {
        "_": _template_gettext, "gettext": _template_gettext, "ngettext": _template_ngettext,
        "flash_message": flash_message, "elderly_mode": elderly_mode, "return_path": return_path,
        "upload_mb": upload_mb, "state_label": state_label, "step_label": step_label,
    }
    env.globals.update(plain)
    env.plain_functions = frozenset(plain.values())
    env.filters.update(
        mask_id=mask_id_number,
        mask_name=mask_name,
        mask_mobile=mask_mobile,
        date=fmt_date,
        datetime=fmt_datetime,
    )
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
