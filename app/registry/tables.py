"""Registry tables: departments, persons, guardian links, legal entities."""

from piccolo.columns import Date, ForeignKey, Integer, Varchar
from piccolo.table import Table


class Department(Table):
    """A government department at one level (province, city, county or town)."""

    code = Varchar(length=32, unique=True)
    name = Varchar(length=100)
    short_name = Varchar(length=40)
    kind = Varchar(length=32, index=True)
    level = Varchar(length=16, index=True)
    region_code = Varchar(length=6)
    region_name = Varchar(length=40)
    parent = ForeignKey("self", null=True)
    address = Varchar(length=200, default="")
    phone = Varchar(length=40, default="")
    sort_order = Integer(default=0)


class Person(Table):
    """One resident in the population registry (人口基础库)."""

    id_number = Varchar(length=18, unique=True)
    name = Varchar(length=40)
    sex = Varchar(length=1)
    birth_date = Date()
    region_code = Varchar(length=6)
    household_address = Varchar(length=200)
    ssc_number = Varchar(length=12)
    mobile = Varchar(length=11, default="")
    id_card_valid_until = Date(null=True, default=None)  # the resident ID card's expiry (None: long-term or unknown)


class GuardianLink(Table):
    """A guardian and a child; the guardian runs the child's page until the child is 18."""

    guardian = ForeignKey(Person, index=True)
    child = ForeignKey(Person, index=True)
    relation = Varchar(length=16)


class LegalEntity(Table):
    """One legal person in the legal-entity registry (法人库)."""

    uscc = Varchar(length=18, unique=True)
    name = Varchar(length=100)
    entity_type = Varchar(length=40)
    legal_rep = ForeignKey(Person, index=True)
    address = Varchar(length=200)
    industry = Varchar(length=40)
    registered_capital = Integer(default=0)
    established_on = Date()
    region_code = Varchar(length=6)
