"""Chinese search over the catalogue: an n-gram index finds, the postings rank, LIKE confirms long phrases.

Every 1- to 4-character gram of a name and every 2- to 4-character gram of a summary is posted, so a query of
up to four characters (社保, 户口, 营业执照) is exactly one posting list: results equal a substring scan, and
two characters are enough. Longer phrases must hold all their 4-character windows and then the phrase itself
(LIKE). Synonyms (社保 ↔ 社会保险) widen the query into variants searched together.

Queries of up to four characters never rank the matches at query time: each posting carries the rank it gives
its item, and a synonym's items are also posted under the word (社会保险 under 社保), so the page is the first
rows of one index range and the count is that range's length."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.cache import TTLCache
from app.catalog.tables import SearchSynonym, ServiceItem

MAX_QUERY = 50
SYNONYM_TTL = 30.0
BIGRAM_SHIFT = 21  # code points fit in 21 bits
HASHED_TAG = 1 << 62  # keys of 3- and 4-character grams sit above every packed one
MAX_GRAM = 4
_SPACE_RE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower case, no spaces: what is indexed and what is searched."""
    return _SPACE_RE.sub("", unicodedata.normalize("NFKC", text or "")).lower()


def word_key(word: str) -> int:
    """The posting key of a word of 1 to 4 characters: the code points packed for one or two characters
    (a * 2^21 + b), a 62-bit hash tagged above that range for three or four."""
    if len(word) == 1:
        return ord(word)
    if len(word) == 2:
        return (ord(word[0]) << BIGRAM_SHIFT) | ord(word[1])
    digest = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
    return HASHED_TAG | (digest & (HASHED_TAG - 1))


def query_grams(term: str) -> set[int]:
    """A term of up to 4 characters is one posting (exact); a longer one needs all its 4-character windows."""
    if len(term) <= MAX_GRAM:
        return {word_key(term)}
    return {word_key(term[i:i + MAX_GRAM]) for i in range(len(term) - MAX_GRAM + 1)}


RANK_WEIGHT = 1000


def _sort_key(name_n: str, word: str, position: int) -> int:
    """The rank a query for `word` gives an item whose name holds it at `position` (-1: only the summary)."""
    if position < 0:
        rank = 3
    elif name_n == word:
        rank = 0
    else:
        rank = 1 if position == 0 else 2
    return rank * RANK_WEIGHT + min(len(name_n), RANK_WEIGHT - 1)


def item_grams(name: str, summary: str, folds: Sequence[tuple[str, str]] = ()) -> list[tuple[int, int]]:
    """(gram, sort_key) postings of one item: every 1- to 4-character gram of the name, every 2- to
    4-character gram of the summary, and for each (short, long) synonym fold whose long word the item holds,
    the short word's key. A name hit keeps the rank of its first position."""
    name_n, summary_n = normalize(name), normalize(summary)
    keys: dict[int, int] = {}

    def post(gram: int, key: int) -> None:
        keys[gram] = min(key, keys.get(gram, key))

    for n in range(1, MAX_GRAM + 1):
        for i in range(len(name_n) - n + 1):
            post(word_key(name_n[i:i + n]), _sort_key(name_n, name_n[i:i + n], i))
    for n in range(2, MAX_GRAM + 1):
        for i in range(len(summary_n) - n + 1):
            post(word_key(summary_n[i:i + n]), _sort_key(name_n, summary_n[i:i + n], -1))
    for short, long in folds:
        position = name_n.find(long)
        if position >= 0 or long in summary_n:
            post(word_key(short), _sort_key(name_n, long, position))
    return list(keys.items())


def folds_of(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(word, synonym) whenever a search for the word (of at most 4 characters) also looks for the synonym —
    the same rule as variants(): the synonym is not already inside the word. The synonym's items are posted
    under the word's key, so that search is one index range."""
    return [(a, b) for x, y in pairs for a, b in ((x, y), (y, x)) if 1 <= len(a) <= MAX_GRAM and b not in a]


_synonyms = TTLCache(SYNONYM_TTL)


def forget_synonyms() -> None:
    """Drop this worker's copy; other workers pick up a change within SYNONYM_TTL seconds."""
    _synonyms.forget()


async def _synonym_pairs() -> list[tuple[str, str]]:
    """The synonym table, read at most every SYNONYM_TTL seconds: it is tiny and read on every search."""
    async def load() -> list[tuple[str, str]]:
        rows = await SearchSynonym.select(SearchSynonym.term, SearchSynonym.alternative)
        return [(normalize(r["term"]), normalize(r["alternative"])) for r in rows]

    return await _synonyms.get(None, load)


async def variants(term: str) -> list[str]:
    """The normalized query and its synonym rewrites, the original first."""
    found = [term]
    for first, second in await _synonym_pairs():
        for a_n, b_n in ((first, second), (second, first)):
            # Rewriting 社保 inside 社会保险 would invent nonsense; only rewrite where the longer form is absent.
            if a_n and a_n in term and b_n not in term:
                candidate = term.replace(a_n, b_n)
                if candidate not in found:
                    found.append(candidate)
    return found


def _like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class SearchQuery:
    """A search and its filters; `term` is already normalized (may be empty: browse)."""

    term: str = ""
    department: int | None = None
    level: str = ""
    audience: str = ""
    event: str = ""
    visits: int | None = None
    include_withdrawn: bool = False


def _filters(query: SearchQuery) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if not query.include_withdrawn:
        clauses.append("i.status = 'published'")
    if query.department is not None:
        clauses.append("i.department = {}")
        args.append(query.department)
    if query.level:
        clauses.append("i.level = {}")
        args.append(query.level)
    if query.audience in ("person", "enterprise"):
        clauses.append(f"i.audience_{query.audience} = {{}}")
        args.append(True)
    if query.visits is not None:
        clauses.append("i.visits = {}")
        args.append(query.visits)
    if query.event:
        clauses.append("i.id IN (SELECT e.item FROM service_item_event e WHERE e.event = {})")
        args.append(query.event)
    return clauses, args


def _candidates(terms: list[str]) -> tuple[str, list[Any]]:
    """A query for the ids of items matching any variant. The index alone decides terms of up to 4 characters
    (their postings are exactly "the name, or for 2+ characters also the summary, contains it"); longer terms
    must hold all their 4-character windows and then the phrase itself, checked with LIKE on the candidates."""
    branches, args = [], []
    for term in terms:
        grams = sorted(query_grams(term))
        postings = (
            f"SELECT g.item FROM search_gram g WHERE g.gram IN ({', '.join('{}' for _ in grams)}) "  # noqa: S608
            f"GROUP BY g.item HAVING COUNT(*) = {len(grams)}"
        )
        args.extend(grams)
        if len(term) <= MAX_GRAM:
            branches.append(postings)
        else:
            branches.append(f"SELECT p.id AS item FROM service_item p WHERE p.id IN ({postings}) "  # noqa: S608
                            "AND (p.search_name LIKE {} ESCAPE '\\' OR p.search_text LIKE {} ESCAPE '\\')")
            pattern = "%" + _like(term) + "%"
            args.extend([pattern, pattern])
    return " UNION ".join(branches), args


def _rank(terms: list[str]) -> tuple[str, list[Any]]:
    """0 exact name, 1 name starts with it, 2 name contains it, 3 only the summary does."""
    if not terms:
        return "0", []
    exact = " OR ".join("i.search_name = {}" for _ in terms)
    prefix = " OR ".join("i.search_name LIKE {} ESCAPE '\\'" for _ in terms)
    inside = " OR ".join("i.search_name LIKE {} ESCAPE '\\'" for _ in terms)
    args = [*terms, *(_like(t) + "%" for t in terms), *("%" + _like(t) + "%" for t in terms)]
    return f"CASE WHEN {exact} THEN 0 WHEN {prefix} THEN 1 WHEN {inside} THEN 2 ELSE 3 END", args


def _posted_words(variant_list: list[str], pairs: list[tuple[str, str]]) -> list[str] | None:
    """The fewest words (of at most 4 characters) whose postings, folds included, hold exactly the variants'
    matches — 社保 alone stands for 社保 and 社会保险 — or None when the query needs the general path."""
    folds = folds_of(pairs)
    coverage = {v: {v} | {b for a, b in folds if a == v} for v in variant_list if len(v) <= MAX_GRAM}
    if not coverage or set().union(*coverage.values()) != set(variant_list):
        return None
    chosen: list[str] = []
    covered: set[str] = set()
    for word in variant_list:  # the user's own word first
        if word in coverage and not coverage[word] <= covered:
            chosen.append(word)
            covered |= coverage[word]
    return chosen


async def search(query: SearchQuery, *, limit: int = 20, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """One page of matching items (best first) and how many match in all, in one statement."""
    terms = await variants(query.term) if query.term else []
    clauses, filter_args = _filters(query)
    plain = not (query.department or query.level or query.audience or query.event or query.visits is not None
                 or query.include_withdrawn)
    posted = _posted_words(terms, await _synonym_pairs()) if terms and plain else None
    if posted is not None:
        return await _search_postings(sorted({word_key(w) for w in posted}), limit, offset)
    where = " AND ".join(clauses) or "1 = 1"
    rank, rank_args = _rank(terms)
    if terms and not query.include_withdrawn:
        # Drive from the postings: the matches are few, the catalogue is large.
        candidates, candidate_args = _candidates(terms)
        source = f"(SELECT DISTINCT item FROM ({candidates}) u) c JOIN service_item i ON i.id = c.item"  # noqa: S608
        source_args = candidate_args
    elif terms:
        # Withdrawn items are not indexed; administrators' searches over them scan the names and summaries.
        source, source_args = "service_item i", []
        like = "i.search_name LIKE {} ESCAPE '\\' OR i.search_text LIKE {} ESCAPE '\\'"
        where += " AND (" + " OR ".join(f"({like})" for _ in terms) + ")"
        for term in terms:
            filter_args += ["%" + _like(term) + "%"] * 2
    else:
        source, source_args = "service_item i", []
    # Rank every match on its narrow columns, then fetch the wide ones for one page only. Only our own SQL
    # fragments are interpolated; every user value travels as a placeholder argument.
    rows = await ServiceItem.raw(
        f"WITH m AS (SELECT i.id, {rank} AS rank, LENGTH(i.name) AS name_length "  # noqa: S608
        f"FROM {source} WHERE {where}) "
        f"SELECT {PAGE_COLUMNS}, m.rank, (SELECT COUNT(*) FROM m) AS total "
        "FROM m JOIN service_item i ON i.id = m.id JOIN department d ON d.id = i.department "
        f"ORDER BY m.rank, m.name_length, m.id LIMIT {int(limit)} OFFSET {int(offset)}",
        *rank_args,
        *source_args,
        *filter_args,
    )
    if rows or offset == 0:
        return rows, int(rows[0]["total"]) if rows else 0
    # Past the last page: say how many there are.
    count = await ServiceItem.raw(
        f"SELECT COUNT(*) AS n FROM {source} WHERE {where}", *source_args, *filter_args  # noqa: S608
    )
    return [], int(count[0]["n"])


PAGE_COLUMNS = (
    "i.id, i.code, i.name, i.summary, i.level, i.kind, i.visits, i.online_level, i.promised_limit_days, "
    "i.legal_limit_days, i.audience_person, i.audience_enterprise, i.status, d.name AS department_name"
)


async def _search_postings(grams: list[int], limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The page straight off the ranked postings of one or a few grams; the count is the postings' length."""
    placeholders = ", ".join("{}" for _ in grams)
    if len(grams) == 1:
        postings = "SELECT g.item, g.sort_key AS k FROM search_gram g WHERE g.gram = {}"
        count = "SELECT COUNT(*) AS n FROM search_gram WHERE gram = {}"
    else:
        postings = (f"SELECT g.item, MIN(g.sort_key) AS k FROM search_gram g "  # noqa: S608
                    f"WHERE g.gram IN ({placeholders}) GROUP BY g.item")
        count = f"SELECT COUNT(DISTINCT item) AS n FROM search_gram WHERE gram IN ({placeholders})"  # noqa: S608
    rows = await ServiceItem.raw(
        f"WITH p AS ({postings} ORDER BY k, g.item LIMIT {int(limit)} OFFSET {int(offset)}) "  # noqa: S608
        f"SELECT {PAGE_COLUMNS}, p.k / {RANK_WEIGHT} AS rank, ({count}) AS total "
        "FROM p JOIN service_item i ON i.id = p.item JOIN department d ON d.id = i.department "
        "ORDER BY p.k, p.item",
        *grams,
        *grams,
    )
    if rows or offset == 0:
        return rows, int(rows[0]["total"]) if rows else 0
    total = await ServiceItem.raw(count, *grams)
    return [], int(total[0]["n"])
