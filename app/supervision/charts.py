"""Charts as standalone SVG drawn on the server by pygal: no script, no web font, no address but our own.

Pages show them as `<img>` from our own URL (the CSP allows images from 'self'), each next to a table with the
same figures. pygal always writes a script block for its tooltips and credits itself in comments; a filter
takes both out before the document is written."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date
from typing import Any

import pygal
from pygal.etree import etree
from pygal.style import Style

from app.i18n import _

# pygal appends to sys.meta_path a finder for its map plugins (unused here) that has no find_spec(): every later
# import that reaches it raises an ImportWarning. Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

SVG_NS = "http://www.w3.org/2000/svg"
SMALL_WIDTH = 400  # the phone-sized month chart (see the page's <picture>)
RATE_CHART_WIDTH = 600  # drawn for half the page's width; the page gives its image this size too
FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
STYLE = Style(
    font_family=FONT,
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f2329",
    foreground_strong="#1f2329",
    foreground_subtle="#5c6370",
    colors=("#0b4ea2", "#1a7f37", "#c8161d", "#b25e00"),
    opacity=".9",
    opacity_hover=".9",
    transition="0s",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=12,
    title_font_size=18,
    legend_font_size=14,
    no_data_font_size=24,
)


def _strip_scripts_and_comments(root: Any) -> Any:
    """pygal's xml filter: drop every <script> and comment, and the xlink namespace no link uses."""
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag
            if not isinstance(tag, str) or tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    if not etree.lxml:
        return root  # xml.etree declares xlink only where a link uses it
    clean = etree.Element(root.tag, nsmap={None: SVG_NS}, attrib=dict(root.attrib))
    clean.extend(list(root))
    return clean


def _config(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": title, "style": STYLE, "js": [], "disable_xml_declaration": False, "width": 800,
            "height": 420, "legend_at_bottom": True, "no_data_text": _("No data yet"), "print_values": False,
            "truncate_label": -1, **extra}


def _render(chart: Any) -> bytes:
    chart.add_xml_filter(_strip_scripts_and_comments)
    return chart.render()


def months_chart(title: str, months: Sequence[tuple[date, Any]], *, small: bool = False) -> bytes:
    """Cases submitted and decided per month, side by side; `small` draws it for a phone (a narrower canvas, so
    the same text comes out larger)."""
    size = {"width": SMALL_WIDTH, "height": 400} if small else {}
    chart = pygal.Bar(**_config(title, x_label_rotation=-60 if small else -45 if len(months) > 6 else 0,
                                min_scale=2, show_minor_y_labels=False, **size))
    chart.x_labels = [f"{m:%Y-%m}" for m, _f in months]
    if any(f.submitted or f.decided for _m, f in months):
        chart.add(_("Cases submitted"), [f.submitted for _m, f in months])
        chart.add(_("Cases decided"), [f.decided for _m, f in months])
    return _render(chart)


def bar_height(bars: int) -> int:
    """The height of a bar chart with that many bars (the page sets its image's size to match)."""
    return max(240, 60 + 34 * bars)


def rate_bars(title: str, rows: Sequence[tuple[str, float]]) -> bytes:
    """One horizontal bar per department with its rate, 0–100 %."""
    # pygal sizes labels for Latin letters; a Chinese character is about twice as wide, so give the names room.
    widest = max((len(name) for name, _rate in rows), default=0)
    chart = pygal.HorizontalBar(**_config(title, width=RATE_CHART_WIDTH, height=bar_height(len(rows)), range=(0, 100),
                                          show_legend=False, print_values=True, margin_left=20 + widest * 7,
                                          value_formatter=lambda v: f"{v:.1f}%"))
    chart.x_labels = [name for name, _rate in rows]
    if rows:
        chart.add(title, [round(rate * 100, 1) for _name, rate in rows])
    return _render(chart)
