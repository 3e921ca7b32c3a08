"""Tables of evaluation and supervision (好差评 / 电子监察): ratings and their rectification, complaints and
suggestions, deadline cards, and the monthly roll-ups the dashboards read instead of the cases."""

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.accounts.tables import User
from app.catalog.tables import ServiceItem
from app.filings.tables import Case
from app.registry.tables import Department


class Rating(Table):
    """The applicant's rating of a finished case on the national five levels (5 非常满意 … 1 非常不满意).

    One per case; a bundle is rated member by member, so each department gets its own."""

    case = ForeignKey(Case, unique=True)
    department = ForeignKey(Department, index=True)
    item = ForeignKey(ServiceItem, index=True)
    rater = ForeignKey(User, index=True)
    level = SmallInt()
    tags = JSON(default="[]")
    comment = Text(default="")
    created_at = Timestamptz()


class Rectification(Table):
    """A bad rating's rectification task (差评整改): the department answers within its working-day clock, the
    citizen accepts the answer or appeals, and a supervisor rules on an appeal (closing it or sending it back)."""

    rating = ForeignKey(Rating, unique=True)
    case = ForeignKey(Case, index=True)
    department = ForeignKey(Department, index=True)
    state = Varchar(length=16, index=True)  # open | answered | appealed | accepted | closed
    round = SmallInt(default=1)
    due_on = Date(index=True)
    answer = Text(default="")
    answered_by = ForeignKey(User, null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)


class RectificationStep(Table):
    """One step of a rectification: opened, answered, accepted, appealed, ruled; who and what was said."""

    rectification = ForeignKey(Rectification, index=True)
    action = Varchar(length=16)
    actor = ForeignKey(User, null=True)
    department = ForeignKey(Department, null=True, default=None)
    text = Text(default="")
    created_at = Timestamptz()


class Complaint(Table):
    """A complaint (投诉) or suggestion (建议) by a citizen, about a case or not, followed to closure."""

    complaint_no = Varchar(length=20, unique=True)
    kind = Varchar(length=12)  # complaint | suggestion
    filer = ForeignKey(User, index=True)
    case = ForeignKey(Case, null=True, default=None, index=True)
    department = ForeignKey(Department, null=True, default=None, index=True)
    subject = Varchar(length=60)
    body = Text()
    state = Varchar(length=16, index=True)
    due_on = Date(null=True, default=None)
    satisfied = Boolean(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)


class ComplaintStep(Table):
    """One step of a complaint: filed, assigned, replied, reopened, closed; who and what was said."""

    complaint = ForeignKey(Complaint, index=True)
    action = Varchar(length=16)
    actor = ForeignKey(User, null=True)
    department = ForeignKey(Department, null=True, default=None)
    text = Text(default="")
    created_at = Timestamptz()


class CaseCard(Table):
    """A deadline card of electronic supervision: yellow with one working day left, red once overdue.

    Active while the case is open; it stays on record (closed) when the case ends, so a late decision keeps its
    red card. `officer` is who holds the case: the last officer to act on it, or the one who ended it."""

    case = ForeignKey(Case, unique=True)
    department = ForeignKey(Department, index=True)
    officer = ForeignKey(User, null=True, default=None, index=True)
    color = Varchar(length=8)  # yellow | red
    issued_on = Date()
    red_on = Date(null=True, default=None)
    closed_on = Date(null=True, default=None)


class CaseRollup(Table):
    """Counts per department, item and month (its first day), kept in the transaction of each change they count
    and rebuilt from the data by `python -m app stats rebuild`."""

    department = ForeignKey(Department, index=False)
    item = ForeignKey(ServiceItem, index=False)
    month = Date(index=True)
    submitted = Integer(default=0)
    online = Integer(default=0)
    zero_visit = Integer(default=0)
    decided = Integer(default=0)
    on_time = Integer(default=0)
    days_sum = Integer(default=0)
    ratings = Integer(default=0)
    satisfied = Integer(default=0)
    bad_ratings = Integer(default=0)
    rectifications = Integer(default=0)
    rectified = Integer(default=0)
