"""Account tables: users, officer roles and login sessions."""

from piccolo.columns import Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from app.registry.tables import Department, Person


class User(Table, tablename="app_user"):
    """A login. A citizen's is bound to one registry person once the page is activated."""

    mobile = Varchar(length=11, unique=True)
    password_hash = Varchar(length=200)
    display_name = Varchar(length=40)
    kind = Varchar(length=16, default="citizen")
    person = ForeignKey(Person, null=True, unique=True)
    department = ForeignKey(Department, null=True)
    is_active = Boolean(default=True)
    created_at = Timestamptz()
    activated_at = Timestamptz(null=True, default=None)
    last_login_at = Timestamptz(null=True, default=None)


class OfficerRole(Table):
    """One role an officer holds in their department."""

    user = ForeignKey(User, index=True)
    role = Varchar(length=32)


class WebSession(Table):
    """A server-side login session; the browser only holds a random token whose hash is stored here."""

    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(User, index=True)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    ip = Varchar(length=45, default="")
    user_agent = Varchar(length=200, default="")
