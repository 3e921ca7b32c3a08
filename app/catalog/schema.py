"""Validation of a catalogue document (see FORMAT.md): every error, with its location, before anything is written."""

from __future__ import annotations

import re
from typing import Any

FORMAT = "yiwang-catalogue"
FORMAT_VERSION = 1

CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
ITEM_CODE_RE = re.compile(r"^[0-9A-Z][0-9A-Z-]{2,39}$")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

KINDS = ("行政许可", "行政确认", "行政给付", "行政征收", "行政裁决", "行政奖励", "行政检查", "其他行政权力", "公共服务")
AUDIENCES = ("person", "enterprise")
PERSON_EVENTS = ("生育", "上学", "就业", "婚姻", "住房", "退休", "医疗", "社保", "户籍", "出行")
ENTERPRISE_EVENTS = ("开办", "经营", "变更", "注销", "纳税", "用工")
LIFE_EVENTS = PERSON_EVENTS + ENTERPRISE_EVENTS
ONLINE_LEVELS = ("全程网办", "在线预审", "网上预约", "窗口办理")
MATERIAL_FORMS = ("原件", "复印件", "原件及复印件", "电子版")
FIELD_TYPES = ("text", "textarea", "number", "date", "select", "id_number", "uscc", "mobile")
PREFILL_SOURCES = (
    "person.name", "person.id_number", "person.sex", "person.birth_date", "person.household_address",
    "person.mobile", "entity.name", "entity.uscc", "entity.address", "entity.legal_rep_name", "entity.industry",
    "entity.entity_type",
)
STATUSES = ("published", "withdrawn")
# What a certificate type's `fields` may print: the case's form facts, the holder's registry facts (never contact
# details or internal codes) and a few facts of the case itself.
SOURCE_RE = re.compile(r"^(form|holder|case)\.([a-z][a-z0-9_]{0,39})$")
HOLDER_SOURCES = (
    "name", "id_number", "sex", "birth_date", "household_address",  # a person
    "uscc", "entity_type", "legal_rep", "address", "industry", "registered_capital", "established_on",  # an entity
)
CASE_SOURCES = ("case_no", "item_name", "decided_on")
CONTACT_WORDS = ("mobile", "phone", "email")
BUNDLE_STATUSES = ("active", "withdrawn")
ON_FAILURE = ("continue", "stop")  # what one member's denial does to the others
REGISTERS = ("enterprise", "child")  # what a member's approval brings into the registry
MAX_BUNDLE_FEE = 10_000_000  # yuan
MAX_ITEMS = 200_000  # a whole province (Guangdong: 87,000) fits in one file


class CatalogueErrors(Exception):
    """Every problem found in a catalogue document, each as "location: message"."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} error(s) in the catalogue:\n" + "\n".join(errors))


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def string(self, obj: dict[str, Any], key: str, where: str, *, min_len: int = 0, max_len: int = 500,
               pattern: re.Pattern[str] | None = None, choices: tuple[str, ...] | None = None,
               optional: bool = False) -> str | None:
        if key not in obj:
            if not optional:
                self.error(f"{where}.{key}", "missing")
            return None
        value = obj[key]
        if not isinstance(value, str):
            self.error(f"{where}.{key}", f"must be a string, not {type(value).__name__}")
            return None
        if not min_len <= len(value) <= max_len:
            self.error(f"{where}.{key}", f"length must be {min_len} to {max_len}, is {len(value)}")
        if pattern is not None and not pattern.match(value):
            self.error(f"{where}.{key}", f"{value!r} does not match {pattern.pattern}")
        if choices is not None and value not in choices:
            self.error(f"{where}.{key}", f"{value!r} is not one of {', '.join(choices)}")
        return value

    def integer(self, obj: dict[str, Any], key: str, where: str, lo: int, hi: int, *, nullable: bool = False,
                optional: bool = False) -> int | None:
        if key not in obj:
            if not optional:
                self.error(f"{where}.{key}", "missing")
            return None
        value = obj[key]
        if value is None and nullable:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.error(f"{where}.{key}", f"must be an integer, not {type(value).__name__}")
            return None
        if not lo <= value <= hi:
            self.error(f"{where}.{key}", f"must be between {lo} and {hi}, is {value}")
        return value

    def boolean(self, obj: dict[str, Any], key: str, where: str) -> bool | None:
        value = obj.get(key)
        if not isinstance(value, bool):
            self.error(f"{where}.{key}", "must be true or false")
            return None
        return value

    def array(self, obj: dict[str, Any], key: str, where: str, lo: int = 0, hi: int = 10_000) -> list[Any]:
        value = obj.get(key)
        if not isinstance(value, list):
            self.error(f"{where}.{key}", "must be a list")
            return []
        if not lo <= len(value) <= hi:
            self.error(f"{where}.{key}", f"must have {lo} to {hi} entries, has {len(value)}")
        return value

    def objects(
        self, obj: dict[str, Any], key: str, where: str, lo: int = 0, hi: int = 10_000
    ) -> list[tuple[str, dict[str, Any]]]:
        result = []
        for i, entry in enumerate(self.array(obj, key, where, lo, hi)):
            place = f"{where}.{key}[{i}]" if where else f"{key}[{i}]"
            if isinstance(entry, dict):
                result.append((place, entry))
            else:
                self.error(place, "must be an object")
        return result

    def unique(self, seen: set[str], value: str | None, where: str, what: str) -> None:
        if value is None:
            return
        if value in seen:
            self.error(where, f"duplicate {what} {value!r}")
        seen.add(value)


def validate_catalogue(doc: Any, department_codes: set[str]) -> None:
    """Raise CatalogueErrors listing every problem; return silently when the document is sound."""
    c = _Checker()
    if not isinstance(doc, dict):
        raise CatalogueErrors(["(document): must be a JSON object"])
    if doc.get("format") != FORMAT:
        c.error("format", f"must be {FORMAT!r}")
    if doc.get("version") != FORMAT_VERSION:
        c.error("version", f"must be {FORMAT_VERSION}")

    material_codes: set[str] = set()
    for where, m in c.objects(doc, "material_types", ""):
        c.unique(material_codes, c.string(m, "code", where, pattern=CODE_RE), f"{where}.code", "material type")
        c.string(m, "name", where, min_len=1, max_len=60)
        c.string(m, "description", where, max_len=500, optional=True)

    certificate_codes: set[str] = set()
    mappings: list[tuple[str, dict[str, Any]]] = []
    for where, t in c.objects(doc, "certificate_types", ""):
        c.unique(certificate_codes, c.string(t, "code", where, pattern=CODE_RE), f"{where}.code", "certificate type")
        c.string(t, "name", where, min_len=1, max_len=60)
        material = c.string(t, "material", where, max_len=40)
        if material is not None and material not in material_codes:
            c.error(f"{where}.material", f"unknown material type {material!r}")
        c.integer(t, "validity_years", where, 1, 100, nullable=True)
        if "fields" in t:
            mappings.append((where, t))

    if "synonyms" in doc:
        for where, pair in c.objects(doc, "synonyms", "", 0, 2000):
            c.string(pair, "term", where, min_len=1, max_len=20)
            c.string(pair, "alternative", where, min_len=1, max_len=20)

    item_codes: set[str] = set()
    items = c.objects(doc, "items", "", 0, MAX_ITEMS)
    for where, item in items:
        _validate_item(c, where, item, item_codes, department_codes, material_codes, certificate_codes)
    for where, t in mappings:
        _validate_mapping(c, where, t, items)
    if "bundles" in doc:
        items_by_code = {item["code"]: item for _, item in items if isinstance(item.get("code"), str)}
        bundle_codes: set[str] = set()
        for where, bundle in c.objects(doc, "bundles", "", 0, 10_000):
            _validate_bundle(c, where, bundle, items_by_code, bundle_codes)
    if c.errors:
        raise CatalogueErrors(c.errors)


def _validate_mapping(c: _Checker, where: str, ctype: dict[str, Any], items: list[tuple[str, dict[str, Any]]]) -> None:
    """A certificate type's `fields`: each form key must be on the form of an item issuing the type (any key
    while no item issues it yet), and never a contact detail."""
    form_types: dict[str, set[str]] = {}
    for _, item in items:
        if item.get("certificate") == ctype.get("code") and isinstance(item.get("form"), list):
            for f in item["form"]:
                if isinstance(f, dict) and isinstance(f.get("key"), str):
                    form_types.setdefault(f["key"], set()).add(str(f.get("type")))
    for fw, entry in c.objects(ctype, "fields", where, 0, 30):
        c.string(entry, "label", fw, min_len=1, max_len=30)
        source = c.string(entry, "source", fw, max_len=50, pattern=SOURCE_RE)
        match = SOURCE_RE.match(source or "")
        if match is None:
            continue
        kind, name = match.groups()
        if kind == "form" and (any(w in name for w in CONTACT_WORDS) or "mobile" in form_types.get(name, ())):
            c.error(f"{fw}.source", f"{source!r} is a contact detail, never printed on a certificate")
        elif kind == "form" and form_types and name not in form_types:
            c.error(f"{fw}.source", f"no item issuing {ctype.get('code')!r} has a form field {name!r}")
        elif kind == "holder" and name not in HOLDER_SOURCES:
            c.error(f"{fw}.source", f"{source!r}: the holder has no printable field {name!r} "
                                    f"(one of {', '.join(HOLDER_SOURCES)})")
        elif kind == "case" and name not in CASE_SOURCES:
            c.error(f"{fw}.source", f"{source!r}: the case has no printable field {name!r} "
                                    f"(one of {', '.join(CASE_SOURCES)})")


def _validate_item(c: _Checker, where: str, item: dict[str, Any], item_codes: set[str], department_codes: set[str],
                   material_codes: set[str], certificate_codes: set[str]) -> None:
    c.unique(item_codes, c.string(item, "code", where, pattern=ITEM_CODE_RE), f"{where}.code", "item code")
    c.string(item, "name", where, min_len=2, max_len=60)
    department = c.string(item, "department", where, max_len=32)
    if department is not None and department not in department_codes:
        c.error(f"{where}.department", f"unknown department {department!r}")
    c.string(item, "kind", where, choices=KINDS)
    audience = c.array(item, "audience", where, 1, 2)
    for value in audience:
        if value not in AUDIENCES:
            c.error(f"{where}.audience", f"{value!r} is not one of {', '.join(AUDIENCES)}")
    for value in c.array(item, "life_events", where, 0, 6):
        if value not in LIFE_EVENTS:
            c.error(f"{where}.life_events", f"{value!r} is not a known life event")
    c.string(item, "summary", where, max_len=500)
    c.string(item, "basis", where, max_len=2000)
    c.string(item, "conditions", where, max_len=2000)
    for i, step in enumerate(c.array(item, "procedure", where, 1, 12)):
        if not isinstance(step, str) or not 1 <= len(step) <= 300:
            c.error(f"{where}.procedure[{i}]", "must be a string of 1 to 300 characters")
    legal = c.integer(item, "legal_limit_days", where, 0, 365)
    promised = c.integer(item, "promised_limit_days", where, 0, 365)
    if legal is not None and promised is not None and promised > legal:
        c.error(f"{where}.promised_limit_days", f"{promised} is longer than the legal limit {legal}")
    c.integer(item, "visits", where, 0, 2)
    c.string(item, "online_level", where, choices=ONLINE_LEVELS)
    c.string(item, "fee", where, max_len=200)
    c.string(item, "fee_basis", where, max_len=500)
    c.string(item, "place", where, max_len=200)
    c.string(item, "contact", where, max_len=100)
    c.string(item, "hours", where, max_len=200)
    c.string(item, "status", where, choices=STATUSES, optional=True)
    certificate = item.get("certificate")
    if certificate is not None and certificate not in certificate_codes:
        c.error(f"{where}.certificate", f"unknown certificate type {certificate!r}")

    material_keys: set[str] = set()
    for mw, m in c.objects(item, "materials", where, 0, 60):
        c.unique(material_keys, c.string(m, "key", mw, pattern=KEY_RE), f"{mw}.key", "material key")
        code = c.string(m, "material", mw, max_len=40)
        if code is not None and code not in material_codes:
            c.error(f"{mw}.material", f"unknown material type {code!r}")
        c.string(m, "form", mw, choices=MATERIAL_FORMS)
        c.integer(m, "copies", mw, 1, 10)
        for flag in ("required", "base", "ecert"):
            c.boolean(m, flag, mw)
        c.string(m, "note", mw, max_len=300, optional=True)

    situation_keys: set[str] = set()
    for sw, s in c.objects(item, "situations", where, 0, 30):
        c.unique(situation_keys, c.string(s, "key", sw, pattern=KEY_RE), f"{sw}.key", "situation key")
        c.string(s, "question", sw, min_len=2, max_len=100)
        answer_keys: set[str] = set()
        for aw, a in c.objects(s, "answers", sw, 2, 8):
            c.unique(answer_keys, c.string(a, "key", aw, pattern=KEY_RE), f"{aw}.key", "answer key")
            c.string(a, "text", aw, min_len=1, max_len=60)
            for effect in ("add", "remove"):
                for key in c.array(a, effect, aw, 0, 30):
                    if key not in material_keys:
                        c.error(f"{aw}.{effect}", f"no material with key {key!r} in this item")

    field_keys: set[str] = set()
    for fw, f in c.objects(item, "form", where, 0, 60):
        c.unique(field_keys, c.string(f, "key", fw, pattern=KEY_RE), f"{fw}.key", "form field key")
        c.string(f, "label", fw, min_len=1, max_len=60)
        field_type = c.string(f, "type", fw, choices=FIELD_TYPES)
        c.boolean(f, "required", fw)
        c.integer(f, "max_length", fw, 1, 5000, optional=True)
        if field_type == "select":
            options = c.array(f, "options", fw, 2, 30)
            if not all(isinstance(o, str) and 1 <= len(o) <= 60 for o in options):
                c.error(f"{fw}.options", "must be strings of 1 to 60 characters")
        prefill = f.get("prefill")
        if prefill is not None and prefill not in PREFILL_SOURCES:
            c.error(f"{fw}.prefill", f"{prefill!r} is not a known registry field")
        c.string(f, "help", fw, max_len=200, optional=True)


def _validate_bundle(c: _Checker, where: str, bundle: dict[str, Any], items: dict[str, dict[str, Any]],
                     bundle_codes: set[str]) -> None:
    """A bundle (一件事): its members are items of the same document, ordered by an acyclic `after` graph, fit
    for the bundle's audience, and their forms agree on every key they share (the merged form asks it once)."""
    c.unique(bundle_codes, c.string(bundle, "code", where, pattern=ITEM_CODE_RE), f"{where}.code", "bundle code")
    c.string(bundle, "name", where, min_len=2, max_len=60)
    audience = c.string(bundle, "audience", where, choices=AUDIENCES)
    c.string(bundle, "summary", where, max_len=500)
    for value in c.array(bundle, "life_events", where, 0, 6):
        if value not in LIFE_EVENTS:
            c.error(f"{where}.life_events", f"{value!r} is not a known life event")
    c.string(bundle, "on_failure", where, choices=ON_FAILURE)
    c.boolean(bundle, "delivery", where)
    c.string(bundle, "status", where, choices=BUNDLE_STATUSES, optional=True)

    members: dict[str, tuple[str, dict[str, Any]]] = {}  # item code -> (location, member), known items only
    listed: set[str] = set()
    registrar: str | None = None  # where the member that registers something stands
    for mw, m in c.objects(bundle, "members", where, 2, 10):
        code = c.string(m, "item", mw, max_len=40)
        if code is not None:
            c.unique(listed, code, f"{mw}.item", "member item")
            if code not in items:
                c.error(f"{mw}.item", f"unknown item {code!r}")
            else:
                members.setdefault(code, (mw, m))
        c.integer(m, "fee", mw, 0, MAX_BUNDLE_FEE, optional=True)
        registers = m.get("registers")
        if registers is None:
            continue
        if registers not in REGISTERS:
            c.error(f"{mw}.registers", f"{registers!r} is not null or one of {', '.join(REGISTERS)}")
        elif audience == "enterprise":
            c.error(f"{mw}.registers", "only a person bundle registers an enterprise or a child")
        elif registrar is not None:
            c.error(f"{mw}.registers", f"only one member may register something; {registrar} already does")
        else:
            registrar = mw

    after: dict[str, list[str]] = {}
    for code, (mw, m) in members.items():
        after[code] = []
        if "after" not in m:
            continue
        for i, other in enumerate(c.array(m, "after", mw, 0, 9)):
            if not isinstance(other, str):
                c.error(f"{mw}.after[{i}]", "must be the item code of another member")
            elif other == code:
                c.error(f"{mw}.after[{i}]", "a member cannot come after itself")
            elif other not in listed:
                c.error(f"{mw}.after[{i}]", f"{other!r} is not a member of this bundle")
            elif other in after[code]:
                c.error(f"{mw}.after[{i}]", f"{other!r} is listed twice")
            elif other in members:
                after[code].append(other)
    for cycle in _cycles(after):
        c.error(f"{members[cycle[0]][0]}.after", "dependency cycle: " + " → ".join([*cycle, cycle[0]]))

    enterprise_registrar = next((code for code, (_, m) in members.items() if m.get("registers") == "enterprise"),
                                None)
    for code, (mw, _) in members.items():
        fits = items[code].get("audience")
        if not isinstance(fits, list) or audience not in AUDIENCES:
            continue
        if audience == "enterprise" and "enterprise" not in fits:
            c.error(f"{mw}.item", f"{code!r} is for persons only, not for an enterprise bundle")
        elif (audience == "person" and "person" not in fits
              and (enterprise_registrar is None or enterprise_registrar not in ancestors(code, after))):
            c.error(f"{mw}.item", f"{code!r} is for enterprises only: in a person bundle it must come after "
                                  "(through `after`) the member that registers the enterprise")
    _check_shared_fields(c, members, items)


def _cycles(after: dict[str, list[str]]) -> list[list[str]]:
    """Each cycle of the `after` graph once, as the member codes along it (depth first, in document order)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    found: list[list[str]] = []

    def visit(code: str) -> None:
        state[code] = 1
        path.append(code)
        for other in after[code]:
            if state.get(other) == 1:
                found.append(path[path.index(other):])
            elif other not in state:
                visit(other)
        path.pop()
        state[code] = 2

    for code in after:
        if code not in state:
            visit(code)
    return found


def ancestors(code: str, after: dict[str, list[str]]) -> set[str]:
    """Every member this one waits for, directly or through others."""
    seen: set[str] = set()
    todo = list(after.get(code, []))
    while todo:
        other = todo.pop()
        if other not in seen:
            seen.add(other)
            todo += after.get(other, [])
    return seen


def _check_shared_fields(c: _Checker, members: dict[str, tuple[str, dict[str, Any]]],
                         items: dict[str, dict[str, Any]]) -> None:
    """The merged form asks each key once, so members sharing a key must agree on its type (and a select's
    options)."""
    first: dict[str, tuple[str, dict[str, Any]]] = {}  # field key -> (item code, field) where it first appears
    for code, (mw, _) in members.items():
        form = items[code].get("form")
        for f in form if isinstance(form, list) else []:
            if not isinstance(f, dict) or not isinstance(f.get("key"), str):
                continue
            seen = first.setdefault(f["key"], (code, f))
            if seen[0] == code:
                continue
            other = seen[1]
            if other.get("type") != f.get("type"):
                c.error(mw, f"form field {f['key']!r} is {other.get('type')!r} in {seen[0]!r} but "
                            f"{f.get('type')!r} in {code!r}; the merged form asks each key once")
            elif f.get("type") == "select" and other.get("options") != f.get("options"):
                c.error(mw, f"form field {f['key']!r} offers other options in {code!r} than in {seen[0]!r}; "
                            "the merged form asks each key once")
