"""Every template compiles, every page has a title, and every UI string has its Chinese translation."""

from __future__ import annotations

import subprocess
import sys

from babel.messages.pofile import read_po

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
