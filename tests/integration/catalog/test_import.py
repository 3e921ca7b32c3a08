"""Catalogue import and export: validated whole, every error located, idempotent, round-tripping, versioned."""

from __future__ import annotations

import json
import sys

import anyio
import pytest

from app.catalog.schema import CatalogueErrors
from app.catalog.search import SearchQuery, search, word_key
from app.catalog.services import export_catalogue, import_catalogue
from app.catalog.tables import MaterialType, SearchGram, ServiceItem, ServiceItemVersion
from app.demo import seed_departments
from app.settings import ROOT
from tests.catalog_fixture import catalogue
from tests.conftest import process_env

pytestmark = pytest.mark.anyio


@pytest.fixture
async def departments(db):
    await seed_departments()


async def test_import_is_idempotent_and_exports_round_trip(departments):
    first = await import_catalogue(catalogue())
    assert (first.items_added, first.items_changed) == (8, 0)
    again = await import_catalogue(catalogue())
    assert (again.items_added, again.items_changed, again.items_unchanged) == (0, 0, 8)
    assert await ServiceItemVersion.count() == 8
    exported = await export_catalogue()
    result = await import_catalogue(json.loads(json.dumps(exported)))
    assert result.items_unchanged == 8
    assert await export_catalogue() == exported


async def test_a_changed_item_gets_a_new_version_and_a_fresh_index(departments):
    await import_catalogue(catalogue())
    doc = catalogue()
    doc["items"][1]["name"] = "户口迁入登记"
    result = await import_catalogue(doc, note="second import")
    assert (result.items_changed, result.items_unchanged) == (1, 7)
    item = await ServiceItem.objects().get(ServiceItem.code == "440400-GA-002")
    assert item.version == 2 and item.search_name == "户口迁入登记"
    version = await ServiceItemVersion.objects().where(ServiceItemVersion.version == 2).first()
    assert version.changed_fields == "name" and version.note == "second import"
    assert await SearchGram.exists().where(SearchGram.item == item.id, SearchGram.gram == word_key("迁入"))


async def test_every_error_is_reported_with_its_location_and_nothing_changes(departments):
    doc = catalogue()
    doc["items"][0]["department"] = "NO-SUCH"
    doc["items"][1]["code"] = doc["items"][2]["code"]
    doc["items"][0]["situations"][0]["answers"][1]["add"].append("missing_key")
    doc["items"][3]["promised_limit_days"] = 99
    doc["items"][4]["visits"] = 3
    doc["material_types"].append({"code": "ID_CARD", "name": "重复"})
    with pytest.raises(CatalogueErrors) as info:
        await import_catalogue(doc)
    errors = "\n".join(info.value.errors)
    assert "items[0].department: unknown department 'NO-SUCH'" in errors
    assert "items[2].code: duplicate item code '440400-GA-003'" in errors
    assert "items[0].situations[0].answers[1].add: no material with key 'missing_key'" in errors
    assert "items[3].promised_limit_days: 99 is longer than the legal limit 20" in errors
    assert "items[4].visits: must be between 0 and 2, is 3" in errors
    assert f"material_types[{len(doc['material_types']) - 1}].code: duplicate material type 'ID_CARD'" in errors
    assert await ServiceItem.count() == 0 and await MaterialType.count() == 0


async def run_cli(*args: str):
    return await anyio.run_process([sys.executable, "-m", "app", "catalog", *args], cwd=ROOT, check=False,
                                   env=process_env())


async def test_cli_import_reports_errors_and_exit_code(departments, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "yiwang-catalogue", "version": 1, "items": [', encoding="utf-8")
    run = await run_cli("import", str(bad))
    assert run.returncode == 1
    assert b"(file) line 1" in run.stderr and b"nothing was changed" in run.stderr
    good = tmp_path / "good.json"
    good.write_text(json.dumps(catalogue(), ensure_ascii=False), encoding="utf-8")
    run = await run_cli("import", str(good))
    assert run.returncode == 0 and b"8 added" in run.stdout
    out = tmp_path / "out.json"
    assert (await run_cli("export", str(out))).returncode == 0
    assert len(json.loads(out.read_text(encoding="utf-8"))["items"]) == 8


async def test_a_whole_city_catalogue_imports_in_one_go(departments, tmp_path):
    """One city's 6,494 items (the seeds' figure) through the operator command, then searchable."""
    from bench.catalogue import generate, write

    path = tmp_path / "city.json"
    write(generate(6494, seed=11), str(path))
    run = await run_cli("import", str(path))
    assert run.returncode == 0, run.stderr
    assert b"6494 added" in run.stdout
    assert await ServiceItem.count() == 6494
    assert await ServiceItemVersion.count() == 6494
    rows, total = await search(SearchQuery(term="社保"), limit=5)
    assert total > 0 and all("社保" in r["name"] + r["summary"] or "社会保险" in r["name"] + r["summary"]
                             for r in rows)
