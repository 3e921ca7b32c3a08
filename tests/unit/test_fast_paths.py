"""The hand-written fast paths give what the library paths they replace give: SQLite value converters (Piccolo's),
the SQLite statement of a `raw` template (Piccolo's QueryString), and a moment's display (Babel's pattern)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from babel.dates import format_datetime
from piccolo.engine import sqlite as piccolo_sqlite
from piccolo.querystring import QueryString

from app import db
from app.i18n import LOCALE, TIMEZONE, fmt_datetime
from app.lifelong import dashboard


def test_converters_read_what_piccolos_read() -> None:
    for raw in (b"0", b"-7", b"123456789012", b"1.0", b"3.00"):
        assert db._int_out(raw) == piccolo_sqlite.convert_int_out(raw)
    for raw in (b"2026-11-25", b"1949-10-01"):
        assert db._date_out(raw) == piccolo_sqlite.convert_date_out(raw)
    for raw in (b"2026-11-25 03:45:34", b"2026-11-25 03:45:34.123456"):
        assert db._timestamp_out(raw) == piccolo_sqlite.convert_timestamp_out(raw)
    for raw in (b"2026-11-25 03:45:34+00:00", b"2026-11-25 03:45:34.5+00:00", b"2026-11-25 03:45:34"):
        ours, theirs = db._timestamptz_out(raw), piccolo_sqlite.convert_timestamptz_out(raw)
        assert ours == theirs
        assert ours.utcoffset() == timedelta(0)
    assert db._boolean_out(b"1") is True
    assert db._boolean_out(b"0") is False


def test_sqlite_statement_is_querystrings() -> None:
    for sql in (dashboard.CASES_SQL, dashboard.TODOS_SQL + "LIMIT {}", dashboard.CERTIFICATES_SQL,
                dashboard.FAMILY_SQL, "SELECT 1"):
        n = sql.count("{}")
        assert db._sqlite_statement(sql) == QueryString(sql, *range(n)).compile_string(engine_type="sqlite")[0]
    # Escaped braces stay braces (Piccolo's own compiler would mangle them).
    assert db._sqlite_statement("SELECT '{{}}' || {}") == "SELECT '{}' || ?"


def test_moments_are_shown_as_babel_shows_them() -> None:
    rng = random.Random(2026)
    start = datetime(1970, 1, 1, tzinfo=UTC)
    for i in range(2000):
        moment = start + timedelta(seconds=rng.randrange(0, 60 * 365 * 86400))
        if i % 3 == 0:
            moment = moment.replace(tzinfo=None)  # a naive value is UTC
        elif i % 3 == 1:
            moment = moment.astimezone(timezone(timedelta(hours=-5)))
        assert fmt_datetime(moment) == format_datetime(moment, format="yyyy-MM-dd HH:mm", tzinfo=TIMEZONE,
                                                       locale=LOCALE)
    assert fmt_datetime(None) == ""
