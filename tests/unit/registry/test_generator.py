"""The registry generator: valid, unique identifiers, consistent families and a well-formed department tree."""

import random
from collections import defaultdict
from datetime import date

import pytest

from app.registry import generator as gen
from app.registry.validators import check_id_number, check_uscc, region_name

N_PERSONS = 20_000


@pytest.fixture(scope="module")
def households() -> list[gen.Household]:
    return list(gen.iter_households(7, N_PERSONS))


def test_every_region_code_is_known() -> None:
    codes = set(gen.region_codes()) | {d["region_code"] for d in gen.departments()}
    assert {code for code in codes if not region_name(code)} == set()


def test_id_number_is_valid_and_encodes_sex_and_birth() -> None:
    rng = random.Random(3)
    for sex in ("M", "F"):
        number = gen.id_number(rng, "440402", date(1988, 2, 29), sex)
        assert check_id_number(number) == number
        assert number[6:14] == "19880229"
        assert int(number[16]) % 2 == (1 if sex == "M" else 0)


def test_generated_people_have_valid_unique_id_numbers(households: list[gen.Household]) -> None:
    persons = [p for h in households for p in h.persons]
    assert len(persons) == N_PERSONS
    assert len({p["id_number"] for p in persons}) == N_PERSONS
    for p in persons:
        assert check_id_number(p["id_number"]) == p["id_number"]
        assert p["id_number"][6:14] == p["birth_date"].strftime("%Y%m%d")
        assert int(p["id_number"][16]) % 2 == (1 if p["sex"] == "M" else 0)
        assert p["region_code"] in gen.ZHUHAI_DISTRICTS
        assert p["household_address"].startswith("广东省珠海市" + gen.ZHUHAI_DISTRICTS[p["region_code"]])
        assert p["mobile"] == "" or (len(p["mobile"]) == 11 and p["mobile"].isdigit())
        assert len(p["ssc_number"]) == 9 and p["ssc_number"][0].isupper() and p["ssc_number"][1:].isdigit()
        assert 2 <= len(p["name"]) <= 4


def test_exactly_n_persons_even_when_the_last_household_is_cut() -> None:
    for n in (1, 2, 3, 17, 101):
        assert sum(len(h.persons) for h in gen.iter_households(n, n)) == n


def test_same_seed_same_people_and_existing_numbers_are_avoided() -> None:
    first = [p for h in gen.iter_households(5, 2_000) for p in h.persons]
    assert first == [p for h in gen.iter_households(5, 2_000) for p in h.persons]
    taken = {p["id_number"] for p in first}
    again = [p for h in gen.iter_households(5, 2_000, existing_id_numbers=taken) for p in h.persons]
    assert taken.isdisjoint(p["id_number"] for p in again)


def test_a_full_birthday_moves_to_the_day_before() -> None:
    day = date(1990, 1, 1)
    full = [gen._ric_with_check(f"44040219900101{seq:03d}") for seq in range(1, 1000, 2)]
    issuer = gen._Issuer(random.Random(1), full)
    number, born = issuer.id_number("440402", day, "M")
    assert born == date(1989, 12, 31) and number[6:14] == "19891231"
    assert check_id_number(number) == number
    number, born = issuer.id_number("440402", day, "F")  # the women's 500 numbers are still free
    assert born == day and number not in full


def test_children_are_linked_to_their_parents_and_born_at_plausible_ages(
    households: list[gen.Household],
) -> None:
    for h in households:
        assert len({p["household_address"] for p in h.persons}) == 1
        guardians: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for g, c, relation in h.links:
            guardians[c].append((g, relation))
        for c, person in enumerate(h.persons):
            if gen.age_on(person["birth_date"], gen.REFERENCE_DATE) < gen.ADULT_AGE:
                assert guardians[c], "every minor has a guardian"
        # Every minor in a household has the same guardians: both parents of a couple, or the single parent.
        assert len({tuple(sorted(gs)) for gs in guardians.values()}) <= 1
        for c, gs in guardians.items():
            child = h.persons[c]
            assert gen.age_on(child["birth_date"], gen.REFERENCE_DATE) < gen.ADULT_AGE
            assert len(gs) in (1, 2) and len({r for _g, r in gs}) == len(gs)
            for g, relation in gs:
                parent = h.persons[g]
                assert relation == ("父亲" if parent["sex"] == "M" else "母亲")
                assert 22 <= gen.age_on(parent["birth_date"], gen.REFERENCE_DATE) <= 80
                at_birth = gen.age_on(parent["birth_date"], child["birth_date"])
                if relation == "母亲" or len(gs) == 1:
                    assert 20 <= at_birth <= 42
                else:
                    assert 20 <= at_birth <= 60


def test_org_code_check_character_follows_gb_11714() -> None:
    # 91110000600037341L is the published example code; its organisation code is 60003734-1.
    assert gen._org_code("60003734") == "600037341"


def test_uscc_codes_are_valid() -> None:
    rng = random.Random(11)
    for type_digit in ("1", "2", "3"):
        for legacy in (False, True):
            for _i in range(300):
                code = gen.uscc(rng, "440402", type_digit, legacy)
                assert check_uscc(code) == code
                assert code[:2] == "9" + type_digit


def test_legal_entities_are_valid_and_unique(households: list[gen.Household]) -> None:
    adults = [
        p["id_number"] for h in households for p in h.persons
        if gen.age_on(p["birth_date"], gen.REFERENCE_DATE) >= gen.ADULT_AGE
    ]
    entities = list(gen.iter_legal_entities(9, 5_000, adults))
    assert len({e["uscc"] for e in entities}) == len(entities) == 5_000
    assert len({e["name"] for e in entities}) == 5_000
    known = set(adults)
    for e in entities:
        assert check_uscc(e["uscc"]) == e["uscc"]
        assert e["legal_rep_id_number"] in known
        assert e["region_code"] in gen.ZHUHAI_DISTRICTS
        assert e["name"].startswith("珠海市")
        assert date(1995, 1, 1) <= e["established_on"] <= gen.REFERENCE_DATE
        assert isinstance(e["registered_capital"], int) and e["registered_capital"] > 0
        assert e["uscc"][1] == {"个体工商户": "2", "农民专业合作社": "3"}.get(e["entity_type"], "1")


def test_departments_form_a_tree() -> None:
    departments = gen.departments()
    codes = [d["code"] for d in departments]
    assert len(codes) == len(set(codes))
    levels = ("province", "city", "county", "town")
    kinds = {"market", "police", "tax", "hrss", "medical", "housingfund", "health", "civil", "realestate",
             "education", "transport", "hall"}
    seen: dict[str, gen.DepartmentRow] = {}
    for d in departments:
        assert d["kind"] in kinds and d["level"] in levels
        assert len(d["code"]) <= 32 and len(d["short_name"]) <= 40 and len(d["region_name"]) <= 40
        if d["parent_code"] is not None:
            parent = seen[d["parent_code"]]  # parents come first, so inserting in order works
            assert levels.index(parent["level"]) == levels.index(d["level"]) - 1
            assert parent["kind"] == d["kind"]
        else:
            assert d["level"] == "province" or d["kind"] == "housingfund"
        seen[d["code"]] = d
    towns = [d for d in departments if d["level"] == "town"]
    assert len(towns) == 8 and all(d["kind"] == "hall" for d in towns)
    assert seen["ZH-HALL"]["name"] == "珠海市政务服务和数据管理局"
    for district in ("XZ", "DM", "JW"):
        for kind in ("market", "police", "tax", "hrss", "civil", "health", "education", "hall"):
            assert seen[f"ZH-{district}-{kind.upper()}"]["kind"] == kind
