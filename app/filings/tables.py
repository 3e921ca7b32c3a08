"""Filing tables: cases, their steps and materials, the holder's materials library, proxy consents."""

from piccolo.columns import JSON, BigInt, Boolean, Date, ForeignKey, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from app.accounts.tables import User
from app.catalog.tables import MaterialType, ServiceItem
from app.registry.tables import Department, LegalEntity, Person


class ProxyConsent(Table):
    """A resident's consent that a proxy agent (代办员) files for them: a one-time code sent to the resident's
    mobile and read back to the agent, or a signed consent form uploaded by the agent."""

    agent = ForeignKey(User, index=True)
    person = ForeignKey(Person, index=True)
    method = Varchar(length=16)  # "sms_code" or "signed_form"
    code_hash = Varchar(length=64, default="")
    attempts = SmallInt(default=0)
    form_sha256 = Varchar(length=64, default="")
    created_at = Timestamptz()
    expires_at = Timestamptz()
    confirmed_at = Timestamptz(null=True, default=None)
    used_at = Timestamptz(null=True, default=None)


class Case(Table, tablename="filing_case"):
    """One application (办件) for one service item, from draft to decision.

    The holder is whose page the case belongs to (a person or an enterprise); the applicant is the user who
    filed it (the holder, an enterprise agent or a proxy agent). The clock counts the item's promised working
    days from submission, stopping while a correction is pending."""

    case_no = Varchar(length=20, unique=True)
    query_code = Varchar(length=8)
    idempotency_key = Varchar(length=43, unique=True)
    item = ForeignKey(ServiceItem, index=True)
    item_version = Integer()
    department = ForeignKey(Department, index=True)
    hall = ForeignKey(Department, index=True)
    # applicant and holder_person are indexed with the columns a personal page lists (a later migration's
    # filing_case_applicant_page and filing_case_holder_page), so a holder's cases are read from the index alone.
    applicant = ForeignKey(User)
    holder_person = ForeignKey(Person, null=True)
    holder_entity = ForeignKey(LegalEntity, null=True, index=True)
    proxy_consent = ForeignKey(ProxyConsent, null=True)
    # The parent of a bundle's member case (bundles build on filings, hence the lazy reference).
    bundle_case = ForeignKey(LazyTableReference("BundleCase", module_path="app.bundles.tables"), null=True,
                             default=None, index=True)
    state = Varchar(length=24, index=True)
    form_data = JSON(default="{}")
    answers = JSON(default="{}")
    correction = JSON(default="{}")
    limit_days = SmallInt(default=0)
    clock_started_on = Date(null=True, default=None)
    paused_since = Date(null=True, default=None)
    paused_days = SmallInt(default=0)
    due_on = Date(null=True, default=None, index=True)
    decided_on = Date(null=True, default=None)
    days_used = SmallInt(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()


class CaseStep(Table):
    """One transition of a case: who, from which department, when, with what opinion, days used by then."""

    case = ForeignKey(Case, index=True)
    action = Varchar(length=24)
    from_state = Varchar(length=24)
    to_state = Varchar(length=24)
    actor = ForeignKey(User)
    department = ForeignKey(Department, null=True)
    opinion = Text(default="")
    days_used = SmallInt(default=0)
    created_at = Timestamptz()


class Material(Table):
    """One document in a holder's materials library; the file is stored once under its SHA-256."""

    holder_person = ForeignKey(Person, null=True, index=True)
    holder_entity = ForeignKey(LegalEntity, null=True, index=True)
    material_type = ForeignKey(MaterialType, index=True)
    sha256 = Varchar(length=64, index=True)
    size = BigInt()
    content_type = Varchar(length=32)
    filename = Varchar(length=120, default="")
    valid_until = Date(null=True, default=None)
    uploaded_by = ForeignKey(User)
    created_at = Timestamptz()
    deleted_at = Timestamptz(null=True, default=None)


class CaseMaterial(Table):
    """A material a case relies on: uploaded for it, or taken from the library (免提交)."""

    case = ForeignKey(Case, index=True)
    key = Varchar(length=40)
    material = ForeignKey(Material, index=True)
    reused = Boolean(default=False)
    created_at = Timestamptz()
