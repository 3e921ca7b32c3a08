"""Chinese search over the catalogue: a unigram/bigram index narrows, LIKE confirms, SQL ranks.

Two-character words (社保, 户口) are exactly one bigram, so recall is complete for every query of two or more
characters; longer queries must contain all their bigrams and then the whole phrase (LIKE), so results equal a
substring scan. Synonyms (社保 ↔ 社会保险) widen the query into variants searched together."""

from __future__ import annotations

import itertools
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from app.catalog.tables import SearchSynonym, ServiceItem

MAX_QUERY = 50
SYNONYM_TTL = 30.0
UNIGRAM_SHIFT = 0
BIGRAM_SHIFT = 21  # code points fit in 21 bits
_SPACE_RE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower case, no spaces: what is indexed and what is searched."""
    return _SPACE_RE.sub("", unicodedata.normalize("NFKC", text or "")).lower()


def unigram(ch: str) -> int:
    return ord(ch)


def bigram(a: str, b: str) -> int:
    return (ord(a) << BIGRAM_SHIFT) | ord(b)


def query_grams(term: str) -> set[int]:
    if len(term) == 1:
        return {unigram(term)}
    return {bigram(a, b) for a, b in itertools.pairwise(term)}


def item_grams(name: str, summary: str) -> list[tuple[int, int]]:
    """(gram, in_name) rows for one item: unigrams and bigrams of the name, bigrams of the whole summary."""
    name_n, summary_n = normalize(name), normalize(summary)
    in_name = {unigram(ch) for ch in name_n} | {bigram(a, b) for a, b in itertools.pairwise(name_n)}
    in_summary = {bigram(a, b) for a, b in itertools.pairwise(summary_n)} - in_name
    return [(g, 1) for g in in_name] + [(g, 0) for g in in_summary]


_synonyms: tuple[float, list[tuple[str, str]]] | None = None


def forget_synonyms() -> None:
    """Drop this worker's copy; other workers pick up a change within SYNONYM_TTL seconds."""
    global _synonyms
    _synonyms = None


async def _synonym_pairs() -> list[tuple[str, str]]:
    """The synonym table, read at most every SYNONYM_TTL seconds: it is tiny and read on every search."""
    global _synonyms
    if _synonyms is None or time.monotonic() - _synonyms[0] > SYNONYM_TTL:
        rows = await SearchSynonym.select(SearchSynonym.term, SearchSynonym.alternative)
        _synonyms = (time.monotonic(), [(normalize(r["term"]), normalize(r["alternative"])) for r in rows])
    return _synonyms[1]


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
    """A query for the ids of items matching any variant. The gram index alone decides terms of one or two
    characters (its postings are exactly "the name, or for bigrams also the summary, contains it"); longer
    terms must hold all their bigrams and then the phrase itself, checked with LIKE on those few candidates."""
    branches, args = [], []
    for term in terms:
        grams = sorted(query_grams(term))
        postings = (
            f"SELECT g.item FROM search_gram g WHERE g.gram IN ({', '.join('{}' for _ in grams)}) "  # noqa: S608
            f"GROUP BY g.item HAVING COUNT(DISTINCT g.gram) = {len(grams)}"
        )
        args.extend(grams)
        if len(term) <= 2:
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


async def search(query: SearchQuery, *, limit: int = 20, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """One page of matching items (best first) and how many match in all, in one statement."""
    terms = await variants(query.term) if query.term else []
    clauses, filter_args = _filters(query)
    where = " AND ".join(clauses) or "1 = 1"
    rank, rank_args = _rank(terms)
    if terms:
        # Drive from the postings: the matches are few, the catalogue is large.
        candidates, candidate_args = _candidates(terms)
        source = f"(SELECT DISTINCT item FROM ({candidates}) u) c JOIN service_item i ON i.id = c.item"  # noqa: S608
        source_args = candidate_args
    else:
        source, source_args = "service_item i", []
    # Rank every match on its narrow columns, then fetch the wide ones for one page only. Only our own SQL
    # fragments are interpolated; every user value travels as a placeholder argument.
    rows = await ServiceItem.raw(
        f"WITH m AS (SELECT i.id, {rank} AS rank, LENGTH(i.name) AS name_length, i.code "  # noqa: S608
        f"FROM {source} WHERE {where}) "
        "SELECT i.id, i.code, i.name, i.summary, i.level, i.kind, i.visits, i.online_level, "
        "i.promised_limit_days, i.legal_limit_days, i.audience_person, i.audience_enterprise, i.status, "
        "d.name AS department_name, m.rank, (SELECT COUNT(*) FROM m) AS total "
        "FROM m JOIN service_item i ON i.id = m.id JOIN department d ON d.id = i.department "
        f"ORDER BY m.rank, m.name_length, m.code LIMIT {int(limit)} OFFSET {int(offset)}",
        *rank_args,
        *source_args,
        *filter_args,
    )
    if rows:
        return rows, int(rows[0]["total"])
    if offset == 0:
        return [], 0
    # Past the last page: say how many there are.
    count = await ServiceItem.raw(
        f"SELECT COUNT(*) AS n FROM {source} WHERE {where}", *source_args, *filter_args  # noqa: S608
    )
    return [], int(count[0]["n"])
