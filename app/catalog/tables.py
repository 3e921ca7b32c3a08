"""Catalogue tables: material and certificate types, service items with their guides, versions, search."""

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.registry.tables import Department


class MaterialType(Table):
    """A kind of document applicants hand in (居民身份证, 营业执照 …), shared by many items."""

    code = Varchar(length=40, unique=True)
    name = Varchar(length=60)
    description = Text(default="")


class CertificateType(Table):
    """An electronic certificate an item issues; one already held stands in for its material type."""

    code = Varchar(length=40, unique=True)
    name = Varchar(length=60)
    material = ForeignKey(MaterialType)
    validity_years = Integer(null=True, default=None)
    # What the certificate prints, in order: [{"label": …, "source": "form.<key>" | "holder.<field>" | "case.<field>"}];
    # empty → the case's form facts (no contact details). The layout is components/certificates/pdf/<code>.html.
    fields = JSON(default="[]")


class ServiceItem(Table):
    """One service item and its guide. Lists (procedure, materials, situations, form) are JSON documents."""

    code = Varchar(length=40, unique=True)
    name = Varchar(length=60)
    department = ForeignKey(Department, index=True)
    level = Varchar(length=16, index=True)
    kind = Varchar(length=16)
    audience_person = Boolean(default=False, index=True)
    audience_enterprise = Boolean(default=False, index=True)
    summary = Text(default="")
    basis = Text(default="")
    conditions = Text(default="")
    procedure = JSON(default="[]")
    legal_limit_days = SmallInt()
    promised_limit_days = SmallInt()
    visits = SmallInt(index=True)
    online_level = Varchar(length=16)
    fee = Varchar(length=200, default="")
    fee_basis = Text(default="")
    place = Varchar(length=200, default="")
    contact = Varchar(length=100, default="")
    hours = Varchar(length=200, default="")
    materials = JSON(default="[]")
    situations = JSON(default="[]")
    form = JSON(default="[]")
    certificate_type = ForeignKey(CertificateType, null=True)
    status = Varchar(length=16, default="published", index=True)
    version = Integer(default=1)
    updated_at = Timestamptz()
    # Lower-cased name and summary, compared with LIKE once the gram index has narrowed the candidates.
    search_name = Varchar(length=60, default="")
    search_text = Text(default="")


class ServiceItemEvent(Table):
    """A life event (生育, 开办 …) an item belongs to, for browsing."""

    item = ForeignKey(ServiceItem, index=True)
    event = Varchar(length=8, index=True)


class ServiceItemVersion(Table):
    """Every change to an item: the whole item as it became, who made it, when, and which fields changed."""

    item = ForeignKey(ServiceItem, index=True)
    version = Integer()
    state = Varchar(length=16)
    snapshot = JSON()
    changed_fields = Varchar(length=400, default="")
    note = Varchar(length=200, default="")
    author_id = Integer(null=True, default=None)
    created_at = Timestamptz()


class SearchGram(Table):
    """Inverted index of the 1- to 4-character grams of each item's name and summary (see catalog/search.py).

    `gram` is search.word_key(): packed code points for one or two characters, a tagged hash for three or
    four. Single characters are indexed for names only, so one-character queries search names. `sort_key` is
    the rank a query for that gram gives the item
    (0 the name is the word, 1 the name starts with it, 2 the name holds it, 3 only the summary does) * 1000
    + the name's length, so the index hands out the best page first. Only published items are indexed; a
    word also stands in the postings of its synonyms of up to four characters (社会保险 under 社保)."""

    gram = BigInt()
    item = ForeignKey(ServiceItem, index=True)
    sort_key = SmallInt(default=3999)


class SearchSynonym(Table):
    """Two ways of saying one thing (社保 ↔ 社会保险); searching either finds both."""

    term = Varchar(length=20, index=True)
    alternative = Varchar(length=20)
