"""Every template compiles, every page has a title, and every UI string has its Chinese translation."""

from __future__ import annotations

import subprocess
import sys

import pytest
from babel.messages.pofile import read_po
from jinja2 import Environment, UndefinedError, pass_context
from markupsafe import Markup

from app.i18n import LOCALE_DIR
from app.settings import ROOT
from app.web.templating import make_environment

TEMPLATES = sorted(p.relative_to(ROOT).as_posix() for d in ("pages", "components") for p in (ROOT / d).rglob("*.html"))


def test_every_template_compiles():
    env = make_environment()
    for name in TEMPLATES:
        env.get_template(name)
    assert len(TEMPLATES) > 10


def test_every_page_has_a_title_and_components_never_extend():
    for name in TEMPLATES:
        source = (ROOT / name).read_text()
        if name.startswith("pages/") and name != "pages/base.html":
            assert "{% block title %}" in source, name
        if name.startswith("components/"):
            assert "{% extends" not in source, name


def test_every_ui_string_is_translated(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", str(LOCALE_DIR / "babel.cfg"),
         "-k", "N_", "-k", "_", "--no-location", "-o", str(pot), "."],
        cwd=ROOT, check=True,
    )
    with pot.open("rb") as fp:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fp) if m.id}
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        catalog = read_po(fp, locale="zh_CN")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (m.string if isinstance(m.string, str) else all(m.string)) and not m.fuzzy
    }
    assert sorted(extracted - translated) == [], "run `make messages` and translate the new entries"


# --- the environment's own rendering paths (app.web.templating) ------------------------------------------------

def test_output_is_escaped_once_whatever_builds_it():
    """Our compiler's escaping gives what stock Jinja gives, through every way a template builds output."""

    class Html:
        def __html__(self) -> str:
            return "<em>own</em>"

    source = (
        "{% macro m(x) %}<b>{{ x }}</b>{% endmacro %}"
        "{% set block %}<p>{{ v }}</p>{% endset %}"
        "1 {{ v }} 2 {{ m(v) }} 3 {{ block }} 4 {{ safe }} 5 {{ n }} {{ none }} 6 {{ html }} 7 {{ v | upper }}"
        "{% filter upper %} 8 {{ v }}{% endfilter %}"
    )
    values = {"v": "<a href=\"x\">'&", "safe": Markup("<br>"), "n": 3, "none": None, "html": Html()}
    page = make_environment().from_string(source).render(**values)
    escaped = "&lt;a href=&#34;x&#34;&gt;&#39;&amp;"
    assert page.startswith(f"1 {escaped} 2 <b>{escaped}</b> 3 <p>{escaped}</p> 4 <br> 5 3 None 6 <em>own</em> ")
    assert page == Environment(autoescape=True).from_string(source).render(**values)


def test_calls_from_templates_keep_their_meaning():
    env = make_environment()

    @pass_context
    def page_name(context) -> str:
        return context["name"]

    env.globals["page_name"] = page_name  # added after the environment was built: templates still see it
    page = env.from_string(
        '{{ page_name() }}|{{ errors.get("a", "-") }}|{{ _("Case %(case_no)s", case_no=v) }}|{{ row.key }}|'
        "{% for i in range(2) %}{{ ngettext('%(num)d working day left', '%(num)d working days left', i) }}{% endfor %}"
    ).render(name="案件", errors={}, v="<x>", row={"key": "值"})
    assert page == "案件|-|办件 &lt;x&gt;|值|剩余 0 个工作日剩余 1 个工作日"
    with pytest.raises(UndefinedError):
        env.from_string("{{ nowhere() }}").render()


def test_translations_fill_in_values_as_markup_would():
    from datetime import date

    from app.web.templating import _filled

    for value in ("<b>\"'&", Markup("<i>ok</i>"), None, 7, 2.5, True, date(2026, 12, 7)):
        assert _filled("值 %(v)s。", {"v": value}) == Markup("值 %(v)s。") % {"v": value}
    assert _filled("%(num)d 个 %(x)s 100%%", {"num": 3, "x": "<"}) == "3 个 &lt; 100%"
