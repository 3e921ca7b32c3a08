"""Bundle tables: the definitions (from the catalogue file), the parent cases, and their payments."""

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.accounts.tables import User
from app.registry.tables import LegalEntity, Person


class Bundle(Table):
    """A bundle of service items filed with one merged form (see catalog/FORMAT.md, `bundles`).

    `members`: [{"item": code, "after": [codes], "fee": yuan, "registers": null | "enterprise" | "child"}]; a
    member starts when every member in its `after` is approved, the rest at once."""

    code = Varchar(length=40, unique=True)
    name = Varchar(length=60)
    audience = Varchar(length=16)  # who files it: person | enterprise
    summary = Text(default="")
    life_events = JSON(default="[]")
    members = JSON(default="[]")
    on_failure = Varchar(length=16, default="continue")  # continue | stop: what a denial does to the others
    delivery = Boolean(default=True)  # the applicant picks window pickup or express delivery
    status = Varchar(length=16, default="active")  # active | withdrawn
    updated_at = Timestamptz()


class BundleCase(Table):
    """The parent case of one bundle filing; its state is derived from its children (filing_case.bundle_case)."""

    bundle_no = Varchar(length=20, unique=True)
    query_code = Varchar(length=8)
    idempotency_key = Varchar(length=43, unique=True)
    bundle = ForeignKey(Bundle, index=True)
    applicant = ForeignKey(User, index=True)
    holder_person = ForeignKey(Person, null=True, index=True)
    holder_entity = ForeignKey(LegalEntity, null=True, index=True)
    state = Varchar(length=24, index=True)  # in_progress | completed | partly_completed | stopped
    form_data = JSON(default="{}")
    answers = JSON(default="{}")
    fee_total = Integer(default=0)  # yuan
    delivery = Varchar(length=16, default="window")  # window | express
    delivery_address = Varchar(length=200, default="")
    created_at = Timestamptz()
    completed_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()


class Payment(Table):
    """One payment for a bundle's fees, through an adapter; `simulated` is the default and moves no money."""

    bundle_case = ForeignKey(BundleCase, index=True)
    adapter = Varchar(length=24)
    amount = Integer()  # yuan
    reference = Varchar(length=64, unique=True)
    status = Varchar(length=16)  # paid | failed | refunded
    created_at = Timestamptz()
