"""Bundles (一件事) in the catalogue file: validated with the items, upserted in the same import, round-tripping."""

from __future__ import annotations

import json

import pytest

from app.bundles.tables import Bundle
from app.catalog.schema import CatalogueErrors, validate_catalogue
from app.catalog.services import as_json, export_catalogue, import_catalogue, load_file
from app.catalog.tables import ServiceItem
from app.demo import DEMO_CATALOGUE, seed_departments
from app.registry import generator
from tests.catalog_fixture import BUNDLES, catalogue, catalogue_with_bundles

pytestmark = pytest.mark.anyio


@pytest.fixture
async def departments(db):
    await seed_departments()


async def refused(doc) -> str:
    with pytest.raises(CatalogueErrors) as info:
        await import_catalogue(doc)
    assert await Bundle.count() == 0 and await ServiceItem.count() == 0  # nothing half-written
    return "\n".join(info.value.errors)


def problems(doc) -> str:
    """What validation alone says, whatever the database holds."""
    with pytest.raises(CatalogueErrors) as info:
        validate_catalogue(doc, {d["code"] for d in generator.departments()})
    return "\n".join(info.value.errors)


async def test_bundles_import_once_and_round_trip(departments):
    first = await import_catalogue(catalogue_with_bundles())
    assert (first.items_added, first.bundles_added) == (8, 2)
    newborn = await Bundle.objects().get(Bundle.code == "440400-YJS-CS")
    assert (newborn.name, newborn.audience, newborn.on_failure, newborn.delivery) == ("出生一件事", "person",
                                                                                        "continue", True)
    assert as_json(newborn.members)[1] == {"item": "440400-GA-001", "after": ["440400-WJ-001"], "fee": 0,
                                           "registers": "child"}

    again = await import_catalogue(catalogue_with_bundles())
    assert (again.bundles_added, again.bundles_changed, again.bundles_unchanged) == (0, 0, 2)
    assert (await Bundle.objects().get(Bundle.code == "440400-YJS-CS")).updated_at == newborn.updated_at

    exported = await export_catalogue()
    assert list(exported)[-2:] == ["items", "bundles"]
    assert exported["bundles"] == sorted(BUNDLES, key=lambda b: b["code"])
    result = await import_catalogue(json.loads(json.dumps(exported)))
    assert (result.items_unchanged, result.bundles_unchanged) == (8, 2)
    assert await export_catalogue() == exported


async def test_defaults_are_filled_in_and_a_change_is_written(departments):
    doc = catalogue_with_bundles()
    bundle = doc["bundles"][1]
    del bundle["status"]
    bundle["members"] = [{"item": m["item"], **({"after": m["after"]} if m["after"] else {})}
                         for m in bundle["members"]]
    await import_catalogue(doc)
    stored = await Bundle.objects().get(Bundle.code == "440400-YJS-BG")
    assert stored.status == "active"
    assert as_json(stored.members)[0] == {"item": "440400-SC-001", "after": [], "fee": 0, "registers": None}

    doc = catalogue_with_bundles()
    doc["bundles"][1]["status"] = "withdrawn"
    result = await import_catalogue(doc)
    assert (result.bundles_changed, result.bundles_unchanged) == (1, 1)
    assert (await Bundle.objects().get(Bundle.code == "440400-YJS-BG")).status == "withdrawn"


async def test_a_catalogue_without_bundles_exports_an_empty_list(departments):
    await import_catalogue(catalogue())
    assert (await export_catalogue())["bundles"] == []


async def test_a_dependency_cycle_is_refused_with_the_items_that_form_it(departments):
    doc = catalogue_with_bundles()
    doc["bundles"][0]["members"][0]["after"] = ["440400-RS-001"]
    errors = await refused(doc)
    assert ("bundles[0].members[0].after: dependency cycle: "
            "440400-WJ-001 → 440400-RS-001 → 440400-GA-001 → 440400-WJ-001") in errors


async def test_unknown_and_misplaced_members_are_located(departments):
    doc = catalogue_with_bundles()
    newborn = doc["bundles"][0]["members"]
    newborn[2]["item"] = "440400-XX-999"
    newborn[1]["after"] = ["440400-GA-001", "440400-RS-002"]
    doc["bundles"][1]["code"] = "440400-YJS-CS"
    doc["bundles"][1]["members"][1]["registers"] = "enterprise"
    errors = await refused(doc)
    assert "bundles[0].members[2].item: unknown item '440400-XX-999'" in errors
    assert "bundles[0].members[1].after[0]: a member cannot come after itself" in errors
    assert "bundles[0].members[1].after[1]: '440400-RS-002' is not a member of this bundle" in errors
    assert "bundles[1].code: duplicate bundle code '440400-YJS-CS'" in errors
    assert "bundles[1].members[1].registers: only a person bundle registers an enterprise or a child" in errors


async def test_only_one_member_registers_and_fees_are_whole_yuan(departments):
    doc = catalogue_with_bundles()
    doc["bundles"][0]["members"][2]["registers"] = "enterprise"
    doc["bundles"][0]["members"][0]["fee"] = 10_000_001
    errors = await refused(doc)
    assert ("bundles[0].members[2].registers: only one member may register something; "
            "bundles[0].members[1] already does") in errors
    assert "bundles[0].members[0].fee: must be between 0 and 10000000, is 10000001" in errors


async def test_a_conflicting_shared_form_key_names_both_items(departments):
    doc = catalogue_with_bundles()
    items = {i["code"]: i for i in doc["items"]}
    items["440400-GA-001"]["form"][1]["type"] = "text"
    items["440400-RS-001"]["form"].append({"key": "child_sex", "label": "性别", "type": "select", "required": True,
                                           "prefill": None, "options": ["男性", "女性"]})
    errors = await refused(doc)
    assert ("bundles[0].members[1]: form field 'birth_date' is 'date' in '440400-WJ-001' but 'text' in "
            "'440400-GA-001'; the merged form asks each key once") in errors
    assert ("bundles[0].members[2]: form field 'child_sex' offers other options in '440400-RS-001' than in "
            "'440400-GA-001'") in errors


async def test_an_enterprise_item_fits_a_person_bundle_only_after_the_enterprise_is_registered(departments):
    doc = catalogue_with_bundles()
    doc["items"][6]["audience"] = ["person", "enterprise"]  # 个体工商户设立登记: an entrepreneur files it
    doc["bundles"].append({
        "code": "440400-YJS-KB", "name": "开办一件事", "audience": "person", "summary": "", "life_events": ["开办"],
        "on_failure": "stop", "delivery": True,
        "members": [{"item": "440400-SC-002", "registers": "enterprise"},
                    {"item": "440400-WJ-001"},
                    {"item": "440400-SC-001", "after": ["440400-WJ-001"]}],
    })
    errors = await refused(doc)
    assert ("bundles[2].members[2].item: '440400-SC-001' is for enterprises only: in a person bundle it must come "
            "after (through `after`) the member that registers the enterprise") in errors
    assert "bundles[0].members" not in errors and "bundles[1].members" not in errors

    doc["bundles"][2]["members"][1]["after"] = ["440400-SC-002"]  # now through 生育登记
    assert (await import_catalogue(doc)).bundles_added == 3

    doc["bundles"][1]["members"][0]["item"] = "440400-WJ-001"
    assert ("bundles[1].members[0].item: '440400-WJ-001' is for persons only, not for an enterprise bundle"
            in problems(doc))


async def test_the_demo_catalogue_has_the_three_bundles(departments):
    doc = load_file(str(DEMO_CATALOGUE))
    result = await import_catalogue(doc)
    assert result.bundles_added == 3
    bundles = {b["code"]: b for b in (await export_catalogue())["bundles"]}
    assert {b["name"] for b in bundles.values()} == {"开办企业", "新生儿出生一件事", "二手房交易一件事"}
    startup = bundles["440400-YJS-KBQY"]
    assert [m["item"] for m in startup["members"]] == [
        "440400-SCJG-001", "440400-GA-003", "440400-SW-001", "440400-RSJ-007", "440400-GJJ-005"]
    assert startup["members"][0]["registers"] == "enterprise" and startup["on_failure"] == "stop"
    assert all(m["after"] == ["440400-SCJG-001"] for m in startup["members"][1:])

    newborn = bundles["440400-YJS-XSECS"]
    assert newborn["members"][1] == {"item": "440402-GA-001", "after": ["440400-WJJ-001"], "fee": 0,
                                     "registers": "child"}
    assert all(m["after"] == ["440402-GA-001"] for m in newborn["members"][2:])
    registration = await ServiceItem.objects().get(ServiceItem.code == "440402-GA-001")
    fields = {f["key"]: f for f in as_json(registration.form)}
    assert fields["child_sex"]["options"] == ["男", "女"] and fields["birth_date"]["type"] == "date"
    assert {"child_name", "birth_place", "father_id_number", "mother_id_number"} <= set(fields)

    house = bundles["440400-YJS-ESFJY"]
    transfer = next(m for m in house["members"] if m["item"] == "440400-BDC-001")
    assert transfer["fee"] == 80
    assert len(house["members"]) == 5
    again = await import_catalogue(doc)
    assert (again.items_changed, again.bundles_added, again.bundles_changed, again.bundles_unchanged) == (0, 0, 0, 3)
