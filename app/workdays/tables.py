"""The admin-kept calendar: days that differ from chinesecalendar's view, or that it does not cover."""

from piccolo.columns import Boolean, Date, Integer, Timestamptz, Varchar
from piccolo.table import Table


class CalendarDay(Table):
    """One day declared a holiday (is_workday false) or a make-up workday (true); overrides the library."""

    day = Date(unique=True)
    is_workday = Boolean(default=False)
    name = Varchar(length=40, default="")
    author_id = Integer(null=True, default=None)
    updated_at = Timestamptz()
