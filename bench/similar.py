"""Similar-case search: retrieval quality on the cloud post-mortem corpus, and latency at 10k cases.

    PYTHONPATH=. .venv/bin/python bench/similar.py                  # SQLite (temporary file)
    PYTHONPATH=. .venv/bin/python bench/similar.py --backend postgres

1. Imports the corpus (../shared/corpus/cloud-postmortems) into a fresh database through the
   real importer, in its own tenant.
2. Quality: for every case, a query is built from its summary and manifestation *written
   differently*: words dropped at random, the rest reordered in chunks, some replaced by
   synonyms from a small thesaurus that belongs to this bench only (the search knows none of
   it). Reports how often the case itself comes first (top-1), in the first three (top-3), and
   the mean reciprocal rank. A harder set uses the observed symptoms (manifestation) alone.
3. Latency: replicates the corpus to --cases cases in a second tenant (through the importer
   again) and times lookups, one transaction each, as the bot does: p50, p95, p99. The lookup
   keeps each judged case's stems and each query's ideas; the replicas repeat the corpus every
   355 cases, which flatters those caches, so a third line times lookups with nothing kept.

Goal: p95 <= 50 ms at 10k cases.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from adapters.console.insights import read_documents
from bot.insights import cloud
from bot.insights.importer import Candidate, import_cases
from bot.insights.similar import above_floor, candidates, clear_caches, query_ideas
from storage import repo
from storage.db import Database, connect, migrate
from storage.search import similar_cases

# The moment the bench imports at: fixed, so every run builds the same data.
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)

CORPUS = next(
    (
        p / "shared" / "corpus" / "cloud-postmortems"
        for p in Path(__file__).resolve().parents
        if (p / "shared").is_dir()
    ),
    Path("../shared/corpus/cloud-postmortems"),
)

# The bench's own thesaurus: how a responder might say the same thing in other words.
THESAURUS = {
    "errors": "failures",
    "error": "failure",
    "failures": "errors",
    "failed": "broke",
    "experienced": "saw",
    "unable": "could not",
    "unavailable": "down",
    "unavailability": "outage",
    "latency": "slowness",
    "increased": "higher",
    "elevated": "high",
    "intermittent": "sporadic",
    "connect": "reach",
    "connectivity": "connections",
    "customers": "users",
    "users": "clients",
    "requests": "calls",
    "timeouts": "time-outs",
    "degraded": "impaired",
    "degradation": "slowdown",
    "accessing": "reaching",
    "issues": "problems",
    "difficulties": "trouble",
    "impacted": "affected",
    "affected": "hit",
    "service": "system",
    "region": "location",
    "multiple": "several",
    "performing": "running",
    "operations": "actions",
    "management": "admin",
}


# Terse queries as responders type them in chat (lower case, abbreviations, no sentences), each
# with the record(s) it is about: a pair means two reports of one event, either is right.
TERSE = [
    ("azure-20211116-1", "aad b2c auth errors australia"),
    ("google-GCE-#15065", "gke cant create external lb"),
    ("aws-6", "s3 down us-east-1"),
    ("aws-4", "elb outage us-east"),
    ("aws-5", "dynamodb errors us-east"),
    ("aws-9", "ec2 dns resolution seoul"),
    ("aws-13", "direct connect down tokyo"),
    ("aws-8", "ec2 ebs tokyo outage"),
    ("azure-20170603-1", "expressroute amsterdam down"),
    ("azure-20181002-1", "er circuit pkt loss melbourne"),
    ("azure-20210712-1", "afd cdn latency"),
    ("azure-20210212-1", "cosmos conn errors west us"),
    ("azure-20190925-1", "aks provisioning failures"),
    ("azure-20190211-1", "aks east us cluster mgmt ops failing"),
    ("azure-20181011-1", "app service 5xx east asia"),
    ("azure-20200701-1", "sql db japan east"),
    ("azure-20210226-1", "storage down japan east"),
    ("azure-20191022-1", "portal sign in failing west europe"),
    ("azure-20181119-1", "mfa outage"),
    ("azure-20211027-1", "sms mfa not received"),
    ("azure-20190708-1", "aad password change issues"),
    ("google-BQ-12", "bq insert jobs failing us multi-region"),
    ("google-CSQL-#17017", "cloud sql europe-west1"),
    ("google-gcps-17001", "pubsub new conns high latency"),
    ("google-GAE-#17007", "gae memcache down"),
    ("google-GAE-#16003", "oauth token failures"),
    ("google-GCE-#17007", "https lb 25% errors"),
    ("google-GAE-#17006|google-GCE-#17008", "asia-northeast1 network loss"),
    ("google-GAE-#17006|google-GCE-#17008", "tokyo lost network"),
    ("gcd-17002", "datastore errors western europe"),
    ("google-gcps-211019", "cloud monitoring query errors"),
    ("azure-20161130-1", "traffic manager failures apac"),
    ("azure-20170504-1", "vm conn issues japan east"),
    ("azure-20180930-1", "korea south storage conn issues"),
    ("azure-20200518-1", "central india multiple services down"),
    ("google-GCE-#15057", "gce instance creation slow asia-east1"),
    ("azure-20210811-1", "network down brazil southeast"),
    ("azure-20170323-1", "aad service to service auth"),
]
# Queries about nothing in the corpus: the right answer is no answer.
UNRELATED = [
    "printer out of toner",
    "coffee machine broken",
    "payroll export wrong currency",
    "jenkins flaky unit tests",
    "wifi in the office slow",
    "typo on the marketing homepage",
    "android app crash on login button",
    "invoice pdf wrong vat",
]

# Dates and clock times identify a report too easily: a responder describing symptoms omits them.
_DATELIKE = re.compile(
    r"^(\d[\d:/.-]*(am|pm)?|utc|pst|pdt|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|july|"
    r"august|september|october|november|december)$",
    re.IGNORECASE,
)


def paraphrase(text: str, rng: random.Random, *, keep: float = 0.65, max_words: int = 40) -> str:
    words = [w for w in re.findall(r"[\w'/.-]+", text) if not _DATELIKE.match(w.strip(".,"))][: max_words * 2]
    kept = [w for w in words if rng.random() < keep] or words[:3]
    swapped = [THESAURUS.get(w.lower(), w) if rng.random() < 0.5 else w for w in kept]
    chunks = [swapped[i : i + 4] for i in range(0, len(swapped), 4)]
    rng.shuffle(chunks)
    return " ".join(w for chunk in chunks for w in chunk)[: max_words * 12]


def corpus_candidates(corpus: Path) -> list[Candidate]:
    found, _ = cloud.candidates(read_documents(corpus))
    return found


def queries(candidates: list[Candidate], rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """{set name: [(record id, query)]}."""
    full, observed = [], []
    for candidate in candidates:
        symptoms = candidate.data["symptoms"]
        summary_words = " ".join(symptoms[:1]).split()[:35]
        manifestation = symptoms[1:]
        full.append((candidate.data["id"], paraphrase(" ".join(summary_words + manifestation), rng)))
        if manifestation:
            observed.append(
                (candidate.data["id"], paraphrase(" ".join(manifestation), rng, keep=0.8) or manifestation[0])
            )
    return {"summary + symptoms, paraphrased": full, "symptoms only, paraphrased": observed}


async def tenant_id(db: Database, name: str) -> int:
    async with db.transaction() as session:
        tenant = await repo.tenant(session, now=NOW, platform="bench", external_id=name)
        assert tenant.id is not None
        return tenant.id


async def lookup(db: Database, tenant: int, text: str, limit: int = 3, *, raw: bool = False) -> list[str]:
    """Record ids found for `text`: as the bot looks (vocabulary expansion, relevance floor), or
    `raw`, the database's ranking of the words as typed (the baseline)."""
    async with db.transaction() as session:
        if raw:
            matches = await similar_cases(session, tenant_id=tenant, query=text, limit=limit)
        else:
            ideas = query_ideas(text)
            found = await candidates(session, tenant_id=tenant, ideas=ideas)
            matches = above_floor(ideas, found, limit=limit)
        return [str(m.case.extra["import"]["id"]) for m in matches]


async def quality(db: Database, tenant: int, sets: dict[str, list[tuple[str, str]]]) -> None:
    for name, pairs in sets.items():
        for raw in (True, False):
            top1 = top3 = empty = 0
            reciprocal = 0.0
            for wanted, text in pairs:
                found = await lookup(db, tenant, text, limit=10, raw=raw)
                ids = [w if w.startswith("cloud:") else f"cloud:{w}" for w in wanted.split("|")]
                ranks = [found.index(w) for w in ids if w in found]
                best = min(ranks) if ranks else None
                top1 += best == 0
                top3 += best is not None and best < 3
                reciprocal += 1 / (best + 1) if best is not None else 0
                empty += not found
            n = len(pairs)
            how = "database only" if raw else "vocabulary + floor"
            print(
                f"  {name:34s} {how:18s} n={n:4d}  top-1 {top1 / n:6.1%}  top-3 {top3 / n:6.1%}  "
                f"MRR@10 {reciprocal / n:.3f}  no answer {empty / n:5.1%}"
            )


async def unrelated(db: Database, tenant: int) -> None:
    for raw in (True, False):
        answered = [q for q in UNRELATED if await lookup(db, tenant, q, raw=raw)]
        how = "database only" if raw else "vocabulary + floor"
        print(
            f"  {'unrelated queries':34s} {how:18s} n={len(UNRELATED):4d}  answered anyway "
            f"{len(answered) / len(UNRELATED):6.1%}" + (f" ({'; '.join(answered[:3])})" if answered else "")
        )


def replicas(candidates: list[Candidate], total: int) -> list[Candidate]:
    copies = []
    for i in range(total):
        base = candidates[i % len(candidates)]
        data = {**base.data, "id": f"{base.data['id']}#{i // len(candidates)}"}
        copies.append(Candidate(base.label, data, base.source_format))
    return copies


async def analyze(db: Database) -> None:
    """Refresh planner statistics, as autovacuum would soon after a bulk import."""
    from sqlalchemy import text

    async with db.engine.connect() as connection:
        await connection.execute(text("ANALYZE"))
        await connection.commit()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def latency(db: Database, tenant: int, texts: list[str]) -> None:
    for raw, cold in ((True, False), (False, False), (False, True)):
        for text in texts[:20]:  # warm the caches first, as a running bot would be
            await lookup(db, tenant, text, raw=raw)
        timings = []
        for text in texts:
            if cold:  # the replicas repeat the corpus: kept stems would flatter the floor
                clear_caches()
            start = time.perf_counter()
            await lookup(db, tenant, text, raw=raw)
            timings.append((time.perf_counter() - start) * 1000)
        how = "database only" if raw else "vocabulary + floor" + (", nothing kept" if cold else "")
        print(
            f"  {how:32s} lookups={len(timings)}  p50 {percentile(timings, 50):.1f} ms  "
            f"p95 {percentile(timings, 95):.1f} ms  "
            f"p99 {percentile(timings, 99):.1f} ms  mean {statistics.mean(timings):.1f} ms"
        )


async def run(url: str, args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    db = connect(url)
    try:
        base = corpus_candidates(Path(args.corpus))
        started = time.perf_counter()
        report = await import_cases(db, base, platform="bench", tenant="corpus", now=NOW)
        print(f"imported {len(report.created)} corpus cases in {time.perf_counter() - started:.1f} s")
        corpus_tenant = await tenant_id(db, "corpus")
        sets = queries(base, rng)
        sets["terse, as typed in chat"] = TERSE
        print("retrieval quality (the case a query was written from, among all corpus cases):")
        await quality(db, corpus_tenant, sets)
        await unrelated(db, corpus_tenant)

        started = time.perf_counter()
        report = await import_cases(db, replicas(base, args.cases), platform="bench", tenant="scale", now=NOW)
        elapsed = time.perf_counter() - started
        print(
            f"imported {len(report.created)} cases for latency in {elapsed:.1f} s "
            f"({len(report.created) / elapsed:.0f}/s)"
        )
        await analyze(db)
        texts = [text for pairs in sets.values() for _, text in pairs]
        rng.shuffle(texts)
        print(f"lookup latency at {len(report.created)} cases (top 3, one transaction each):")
        await latency(db, await tenant_id(db, "scale"), texts[: args.lookups])
    finally:
        await db.dispose()


def postgres_database(server: str) -> tuple[str, str]:
    import psycopg

    name = f"casebook_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(server.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + "/" + name, name


def drop_postgres(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--corpus", default=str(CORPUS))
    parser.add_argument("--cases", type=int, default=10_000, help="cases for the latency run")
    parser.add_argument("--lookups", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not Path(args.corpus).is_dir():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 2
    print(f"backend: {args.backend}")
    if args.backend == "postgres":
        url, name = postgres_database(args.pg_server)
        try:
            migrate(url)
            asyncio.run(run(url, args))
        finally:
            drop_postgres(args.pg_server, name)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        migrate(url)
        asyncio.run(run(url, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
