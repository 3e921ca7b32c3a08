"""Tables of the pages: who may act for an enterprise."""

from piccolo.columns import Date, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from app.accounts.tables import User
from app.registry.tables import LegalEntity


class EnterpriseMember(Table):
    """A user's role on an enterprise page: the legal representative or an authorised agent (经办人)."""

    entity = ForeignKey(LegalEntity, index=True)
    user = ForeignKey(User, index=True)
    role = Varchar(length=16)
    scope = Varchar(length=32, default="all")
    expires_on = Date(null=True, default=None)
    granted_by = ForeignKey(User, null=True)
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
