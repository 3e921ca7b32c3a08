"""Chinese search over the catalogue: a unigram/bigram index narrows, LIKE confirms, SQL ranks.

Two-character words (社保, 户口) are exactly one bigram, so recall is complete for every query of two or more
characters; longer queries must contain all their bigrams and then the whole phrase (LIKE), so results equal a
substring scan. Synonyms (社保 ↔ 社会保险) widen the query into variants searched together."""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from app.catalog.tables import SearchSynonym, ServiceItem

MAX_QUERY = 50
UNIGRAM_SHIFT = 0
BIGRAM_SHIFT = 21  # code points fit in 21 bits
SUMMARY_INDEX_CHARS = 200
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
    """(gram, in_name) rows for one item: unigrams and bigrams of the name, bigrams of the summary."""
    name_n, summary_n = normalize(name), normalize(summary)[:SUMMARY_INDEX_CHARS]
    in_name = {unigram(ch) for ch in name_n} | {bigram(a, b) for a, b in itertools.pairwise(name_n)}
    in_summary = {bigram(a, b) for a, b in itertools.pairwise(summary_n)} - in_name
    return [(g, 1) for g in in_name] + [(g, 0) for g in in_summary]


async def variants(term: str) -> list[str]:
    """The normalized query and its synonym rewrites, the original first."""
    found = [term]
    rows = await SearchSynonym.select(SearchSynonym.term, SearchSynonym.alternative)
    for row in rows:
        for a, b in ((row["term"], row["alternative"]), (row["alternative"], row["term"])):
            a_n, b_n = normalize(a), normalize(b)
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


def _term_clauses(terms: list[str]) -> tuple[list[str], list[Any]]:
    """Candidates from the gram index (all of a variant's grams), confirmed by LIKE on the phrase itself."""
    candidates, matches, args = [], [], []
    for term in terms:
        grams = sorted(query_grams(term))
        placeholders = ", ".join("{}" for _ in grams)
        candidates.append(
            f"i.id IN (SELECT g.item FROM search_gram g WHERE g.gram IN ({placeholders}) "  # noqa: S608
            f"GROUP BY g.item HAVING COUNT(DISTINCT g.gram) = {len(grams)})"
        )
        args.extend(grams)
    for term in terms:
        pattern = "%" + _like(term) + "%"
        if len(term) == 1:
            matches.append("i.search_name LIKE {} ESCAPE '\\'")
            args.append(pattern)
        else:
            matches.append("(i.search_name LIKE {} ESCAPE '\\' OR i.search_text LIKE {} ESCAPE '\\')")
            args.extend([pattern, pattern])
    return ["(" + " OR ".join(candidates) + ")", "(" + " OR ".join(matches) + ")"], args


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
    """One page of matching items (best first) and how many match in all."""
    terms = await variants(query.term) if query.term else []
    clauses, where_args = _filters(query)
    if terms:
        term_clauses, term_args = _term_clauses(terms)
        clauses += term_clauses
        where_args += term_args
    where = " AND ".join(clauses) or "1 = 1"
    # Only our own SQL fragments are interpolated; every user value travels as a placeholder argument.
    count_rows = await ServiceItem.raw(f"SELECT COUNT(*) AS n FROM service_item i WHERE {where}", *where_args)  # noqa: S608
    total = int(count_rows[0]["n"])
    if total == 0 or offset >= total:
        return [], total
    rank, rank_args = _rank(terms)
    rows = await ServiceItem.raw(
        "SELECT i.id, i.code, i.name, i.summary, i.level, i.kind, i.visits, i.online_level, "  # noqa: S608
        "i.promised_limit_days, i.legal_limit_days, i.audience_person, i.audience_enterprise, i.status, "
        f"d.name AS department_name, {rank} AS rank "
        f"FROM service_item i JOIN department d ON d.id = i.department WHERE {where} "
        f"ORDER BY rank, LENGTH(i.name), i.code LIMIT {int(limit)} OFFSET {int(offset)}",
        *rank_args,
        *where_args,
    )
    return rows, total
