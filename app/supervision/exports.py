"""The supervision CSV files (UTF-8 with a byte-order mark, so Excel reads the Chinese) and their audit rows."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from typing import Any

from app.audit.services import record_alone
from app.filings.workflow import state_label
from app.i18n import N_, _
from app.supervision import metrics

BOM = "\ufeff"
CARD_LABELS = {"yellow": N_("Yellow card"), "red": N_("Red card")}


def _line(cells: Iterable[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def figures_header() -> list[str]:
    return [_("Department"), _("Cases submitted"), _("Cases decided"), *(_(label) for _key, label in metrics.RATES),
            _("Active yellow cards"), _("Active red cards")]


def figures_row(name: str, figures: metrics.Figures, yellow: int, red: int) -> list[Any]:
    """One department's line: the very texts the dashboard's table shows."""
    return [name, figures.submitted, figures.decided, *figures.rate_texts(), yellow, red]


def figures_csv(board: metrics.Dashboard) -> str:
    lines = [_line(figures_header())]
    lines += [_line(figures_row(r.name, r.figures, r.yellow, r.red)) for r in board.departments]
    lines.append(_line(figures_row(_("All departments"), board.totals, board.yellow, board.red)))
    return BOM + "".join(lines)


async def cases_csv(department_id: int, case_filter: str, period: metrics.Period) -> AsyncIterator[bytes]:
    """The filter's cases (at most CSV_MAX_ROWS), written as they are read."""
    yield (BOM + _line([_("Case number"), _("Item"), _("State"), _("Clock started"), _("Due"), _("Decided on"),
                        _("Working days used"), _("Promised working days"), _("Card"), _("Officer")])).encode()
    batch: list[str] = []
    async for c in metrics.iter_department_cases(department_id, case_filter, period):
        label = CARD_LABELS.get(c["card"] or "")
        card = _(label) if label else ""
        batch.append(_line([c["case_no"], c["item_name"], state_label(c["state"]), c["clock_started_on"] or "",
                            c["due_on"] or "", c["decided_on"] or "", c["clock"].used, c["limit_days"], card,
                            c["officer_name"] or ""]))
        if len(batch) >= 500:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()


async def audit_export(user_id: int, ip: str, what: str, key: str, **detail: Any) -> None:
    """Who took which figures or case list away, and when."""
    await record_alone(f"supervision.export.{what}", actor_id=user_id, subject_type=what, subject_key=key, ip=ip,
                       **detail)
