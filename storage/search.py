"""Similar past cases, ranked by the database's own full-text search.

The index (`case_search`) is maintained by triggers created in migration 0006_insights:
SQLite FTS5 ranked by bm25 with per-column weights, PostgreSQL tsvector/GIN ranked by
ts_rank with per-section weights. Both rank in two stages: the query's rarest words (by their
document counts: FTS5's own index, PostgreSQL's `case_search_words` of 0021_words) choose the
candidates, all its words rank them.
A query is the content words of a text joined with OR, so a case that shares only some words
still ranks; the database does the scan and the ordering, Python only reads the top rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, CaseStatus

MAX_TERMS = 40  # bounds the cost of one lookup whatever the length of the text
# A word in more of the cases than this does not choose candidates (SQLite's bm25 ranks fast
# enough for a wide net).
SQLITE_COMMON_SHARE = 0.1
RANK_BUDGET = 1000  # SQLite: cases bm25 may score for the rarest words (a few ms)
# PostgreSQL's ts_rank reads each candidate's whole document (~10 µs each at 10,000 cases): the
# rarest words choose while the cases they match stay within this budget, whatever their share
# (no share rule: at 10,000 cases a word in 1% of them is 100 more documents to rank). The corpus
# of bench/similar.py ranks the same at 300, 600 or with no budget; among 10,000 synthetic cases
# of its tenant, the same at 600 as with no budget.
PG_RANK_BUDGET = 600
PG_COMMON_SHARE = 0.0

# English function words, plus the boilerplate of incident reports that says nothing about the
# fault ("a subset of customers may have experienced..."): they would match every case.
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our ours out over own same she
    should so some such than that the their theirs them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with
    would you your yours us via per within without onto upon
    approximately customers customer subset may might experienced experiencing engineers
    identified utc pst pdt pt
    """
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# bm25 column weights, in the FTS5 column order: title, symptoms, signals, diagnosis, cause, services.
SQLITE_WEIGHTS = (2.0, 4.0, 1.0, 1.0, 0.5, 1.5)
# ts_rank weights for the sections {D root cause, C signals+diagnosis, B title+services, A symptoms}.
PG_WEIGHTS = "{0.1, 0.2, 0.5, 1.0}"


def words(value: str) -> list[str]:
    """Lowercase content words: no stopwords, no single letters."""
    return [
        w
        for w in (m.group(0).lower() for m in _WORD.finditer(value))
        if w not in STOPWORDS and (len(w) > 1 or w.isdigit())
    ]


def search_terms(value: str, *, limit: int = MAX_TERMS) -> list[str]:
    """The distinct content words of a text, first seen first, at most `limit`."""
    return list(dict.fromkeys(words(value)))[:limit]


@dataclass(frozen=True)
class Match:
    case: Case
    score: float  # higher is more similar; comparable only within one lookup


# SQLite: the same two stages as PostgreSQL's below. bm25 touches every row an OR of common words
# matches (nearly every case), then a join reads each of them from `cases` for the tenant. So the
# selective words (by their document counts, from the index itself) choose the candidates and all
# the words rank them: `(selective) AND (common)` plus `(selective) NOT (common)` match exactly
# the cases with a selective word, and score each with every phrase of the query, as one OR would.
# The join reads tenant and status from the narrow index of 0020_similar, named because SQLite's
# planner, without ANALYZE statistics, would read each wide case row instead.
_SQLITE_RANKED = f"""
    SELECT case_search.rowid AS case_id, bm25(case_search, {", ".join(map(str, SQLITE_WEIGHTS))}) AS rank
    FROM case_search JOIN cases INDEXED BY case_search_scope ON cases.id = case_search.rowid
    WHERE case_search MATCH {{match}}
      AND cases.tenant_id = :tenant_id AND cases.status = :status AND cases.id <> :exclude
"""
_SQLITE_QUERY = text(_SQLITE_RANKED.format(match=":query") + "ORDER BY rank, case_id DESC LIMIT :limit")
_SQLITE_SPLIT_QUERY = text(
    f"""
    SELECT case_id, rank FROM (
      {_SQLITE_RANKED.format(match=":with_common")}
      UNION ALL
      {_SQLITE_RANKED.format(match=":without_common")}
    )
    ORDER BY rank, case_id DESC
    LIMIT :limit
    """
)


def _sqlite_counts(terms: Sequence[str]) -> TextClause:
    """How many indexed cases hold each term (as the index's own tokenizer stems it), and how many
    cases there are: one statement, a count per term (FTS5 counts a doclist without ranking it)."""
    counts = ", ".join(
        f"(SELECT count(*) FROM case_search WHERE case_search MATCH :t{i})" for i in range(len(terms))
    )
    return text(f"SELECT (SELECT count(*) FROM cases), {counts}")


def selective(
    counts: dict[str, int],
    *,
    total: int,
    rarest: int = 3,
    budget: int = RANK_BUDGET,
    common_share: float = SQLITE_COMMON_SHARE,
) -> list[str]:
    """The terms that choose the candidates, from how many of `total` cases hold each: the rarest
    ones while the cases they match stay within `budget` (a small tenant's query is ranked
    whole), those in at most `common_share` of the cases, and always the `rarest` rarest, so a
    query of common words still finds its best matches."""
    chosen: set[str] = set()
    spent = 0
    for place, (count, term) in enumerate(sorted((c, t) for t, c in counts.items())):
        if place < rarest or count <= common_share * total or spent + count <= budget:
            chosen.add(term)
            spent += count
    return [term for term in counts if term in chosen]


def _fts_or(terms: Sequence[str]) -> str:
    return " OR ".join(f'"{term}"' for term in terms)


async def _sqlite_document_counts(
    connection: AsyncConnection, terms: Sequence[str]
) -> tuple[int, dict[str, int]]:
    """The number of indexed cases, and how many of them hold each term (the index has no tenant:
    these are every tenant's cases, drafts included)."""
    counts = (
        await connection.execute(_sqlite_counts(terms), {f"t{i}": f'"{t}"' for i, t in enumerate(terms)})
    ).one()
    return int(counts[0]), {term: int(count) for term, count in zip(terms, counts[1:], strict=True)}


async def _sqlite_ranked(
    connection: AsyncConnection, terms: Sequence[str], params: dict[str, object]
) -> list[tuple[int, float]]:
    params = {**params, "status": CaseStatus.PUBLISHED.value}
    total, counts = await _sqlite_document_counts(connection, terms)
    # A word no case holds scores nothing anywhere: left out, it cannot take a rarest word's place.
    held = {term: count for term, count in counts.items() if count}
    if not held:
        return []
    chosen = selective(held, total=total, budget=RANK_BUDGET, common_share=SQLITE_COMMON_SHARE)
    picked = _fts_or(chosen)
    common = [term for term in held if term not in chosen]
    if common:
        rest = _fts_or(common)
        split = {"with_common": f"({picked}) AND ({rest})", "without_common": f"({picked}) NOT ({rest})"}
        rows = await connection.execute(_SQLITE_SPLIT_QUERY, {**params, **split})
    else:
        rows = await connection.execute(_SQLITE_QUERY, {**params, "query": picked})
    return [(int(r.case_id), -float(r.rank)) for r in rows]


# PostgreSQL: the same two stages. ts_rank has no notion of how rare a word is, and an OR of
# common words matches nearly every case, so ranking the whole query would read them all. The
# query's lexemes (as the index's own configuration stems them) are counted first, from the
# tenant's `case_search_words` (exact, kept by a trigger; its '' row is the tenant's number of
# published cases); the rarest choose the candidates (`selective`), every lexeme ranks them.
# Filtering and ranking happen in case_search alone: a join before the LIMIT would make
# PostgreSQL sort every matching row instead of keeping a top-N heap.
_PG_COUNTS = text(
    """
    SELECT t.lexeme AS lexeme, coalesce(w.cases, 0) AS cases
    FROM unnest(array_prepend('', tsvector_to_array(to_tsvector('english', :query)))) AS t(lexeme)
    LEFT JOIN case_search_words w ON w.tenant_id = :tenant_id AND w.lexeme = t.lexeme
    """
)
_PG_QUERY = text(
    f"""
    SELECT s.case_id AS case_id,
           ts_rank('{PG_WEIGHTS}', s.document, CAST(:ranked_by AS tsquery), 1) AS rank
    FROM case_search s
    WHERE s.document @@ CAST(:selected_by AS tsquery)
      AND s.tenant_id = :tenant_id AND s.published AND s.case_id <> :exclude
    ORDER BY rank DESC, s.case_id DESC
    LIMIT :limit
    """
)


def _tsquery_or(lexemes: Sequence[str]) -> str:
    """An OR of lexemes as tsquery text, each quoted: taken as it is, not parsed or stemmed again."""
    return " | ".join("'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'" for lexeme in lexemes)


async def _pg_document_counts(
    connection: AsyncConnection, *, tenant_id: int, query: str
) -> tuple[int, dict[str, int]]:
    """The tenant's number of published cases, and how many of them hold each lexeme of `query`."""
    rows = (await connection.execute(_PG_COUNTS, {"tenant_id": tenant_id, "query": query})).all()
    counts = {str(r.lexeme): int(r.cases) for r in rows}
    return counts.pop(""), counts


async def _pg_ranked(
    connection: AsyncConnection, terms: Sequence[str], params: dict[str, object], *, tenant_id: int
) -> list[tuple[int, float]]:
    total, counts = await _pg_document_counts(connection, tenant_id=tenant_id, query=" ".join(terms))
    # As on SQLite, a word no case holds cannot take a rarest word's place.
    held = {lexeme: count for lexeme, count in counts.items() if count}
    if not held:
        return []
    chosen = selective(held, total=total, budget=PG_RANK_BUDGET, common_share=PG_COMMON_SHARE)
    query = {"ranked_by": _tsquery_or(list(counts)), "selected_by": _tsquery_or(chosen)}
    rows = await connection.execute(_PG_QUERY, {**params, **query})
    return [(int(r.case_id), float(r.rank)) for r in rows]


async def similar_cases(
    session: AsyncSession,
    *,
    tenant_id: int,
    query: str,
    limit: int = 3,
    exclude_case_id: int | None = None,
) -> list[Match]:
    """Published cases of one tenant whose text shares the most (and rarest) words with `query`."""
    ranked = await ranked_case_ids(
        session, tenant_id=tenant_id, query=query, limit=limit, exclude_case_id=exclude_case_id
    )
    return await with_cases(session, tenant_id=tenant_id, ranked=ranked)


async def ranked_case_ids(
    session: AsyncSession,
    *,
    tenant_id: int,
    query: str,
    limit: int = 3,
    exclude_case_id: int | None = None,
) -> list[tuple[int, float]]:
    """(case id, score) of the best matches, best first: the ranking alone, no rows loaded."""
    terms = search_terms(query)
    if not terms or limit < 1:
        return []
    params: dict[str, object] = {
        "tenant_id": tenant_id,
        "exclude": exclude_case_id if exclude_case_id is not None else -1,
        "limit": limit,
    }
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        return await _pg_ranked(connection, terms, params, tenant_id=tenant_id)
    return await _sqlite_ranked(connection, terms, params)


async def document_counts(session: AsyncSession, *, tenant_id: int, query: str) -> tuple[int, dict[str, int]]:
    """What the rarest words are chosen by: how many cases there are, and how many hold each word
    of `query`. PostgreSQL: the tenant's published cases, by lexeme; SQLite: every indexed case,
    by query word (its FTS5 index has no tenant)."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        return await _pg_document_counts(connection, tenant_id=tenant_id, query=query)
    terms = search_terms(query)
    return await _sqlite_document_counts(connection, terms) if terms else (0, {})


async def with_cases(
    session: AsyncSession, *, tenant_id: int, ranked: Sequence[tuple[int, float]]
) -> list[Match]:
    """The ranked cases' rows, in one query, in the ranking's order."""
    if not ranked:
        return []
    ids = [case_id for case_id, _ in ranked]
    found = await session.exec(select(Case).where(Case.tenant_id == tenant_id, col(Case.id).in_(ids)))
    by_id = {case.id: case for case in found}
    return [Match(by_id[case_id], score) for case_id, score in ranked if case_id in by_id]


# The index is created by raw SQL in 0006_insights (an FTS5 virtual table and its shadow tables
# on SQLite, a tsvector table on PostgreSQL) and has no model: autogenerate must not propose to
# drop it. storage/migrations_filter.py uses this for Alembic.
UNMODELLED_PREFIXES = ("case_search",)
