"""The shared vocabulary of incidents: abbreviations, synonyms, regions, and what each phrase means.

It is data, kept up to date by hand: when responders start writing a new abbreviation, add a
line. Three uses, one table:
- the capability map groups symptoms, checks, causes and detection by meaning (`concepts`);
- similar-case search expands a terse query (`expansions`: "aad" also looks for "azure active
  directory", "asia" for Tokyo, Seoul, Singapore...);
- the relevance floor asks whether a past case speaks of the query's ideas (`idea_groups`).

Phrases are compared as sequences of stems (Snowball's English stemmer), so "failing", "failed"
and "failures" meet, and hyphenated names such as asia-northeast1 stay one word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import snowballstemmer

from bot.insights.stopwords import STOPWORDS

# One word as responders write it: `asia-northeast1`, `5xx`, `500s`, `k8s`, `don't`.
_TOKEN = re.compile(r"[a-z]+(?:-[a-z]+)*-?\d+[a-z]?|\d+(?:xx|s)?|[a-z][a-z0-9']*", re.IGNORECASE)

# Abbreviations and chat shorthand -> what they stand for (a phrase of plain words).
ABBREVIATIONS: dict[str, str] = {
    "aad": "azure active directory",
    "entra": "azure active directory",
    "aks": "azure kubernetes service",
    "gke": "google kubernetes engine",
    "eks": "elastic kubernetes service",
    "k8s": "kubernetes",
    "kube": "kubernetes",
    "bq": "bigquery",
    "gcs": "cloud storage",
    "gce": "compute engine",
    "gae": "app engine",
    "gcp": "google cloud",
    "lb": "load balancer",
    "lbs": "load balancers",
    "elb": "elastic load balancer",
    "alb": "application load balancer",
    "nlb": "network load balancer",
    "glb": "global load balancer",
    "vm": "virtual machine",
    "vms": "virtual machines",
    "vmss": "virtual machine scale set",
    "db": "database",
    "dbs": "databases",
    "cdn": "content delivery network",
    "vnet": "virtual network",
    "vpc": "virtual private cloud",
    "er": "expressroute",
    "afd": "azure front door",
    "dynamo": "dynamodb",
    "pubsub": "pub sub",
    "arm": "azure resource manager",
    "kv": "key vault",
    "mfa": "multi factor authentication",
    "2fa": "multi factor authentication",
    "sso": "single sign on",
    "auth": "authentication",
    "authn": "authentication",
    "authz": "authorization",
    "perms": "permissions",
    "cert": "certificate",
    "certs": "certificates",
    "cfg": "configuration",
    "config": "configuration",
    "configs": "configuration",
    "deploy": "deployment",
    "deploys": "deployments",
    "conn": "connection",
    "conns": "connections",
    "err": "errors",
    "errs": "errors",
    "lat": "latency",
    "svc": "service",
    "svcs": "services",
    "req": "requests",
    "reqs": "requests",
    "oom": "out of memory",
    "ddos": "distributed denial of service",
    "pg": "postgres",
    "ext": "external",
    "repl": "replication",
    "prod": "production",
    "infra": "infrastructure",
    "net": "network",
    "pkt": "packet",
    "apac": "asia pacific",
    "eu": "europe",
}

# Regions: every name of one place (cloud region ids, city, provider names) is one concept.
REGIONS: dict[str, tuple[str, ...]] = {
    "Tokyo": ("tokyo", "asia-northeast1", "ap-northeast-1", "japan east", "saitama"),
    "Osaka": ("osaka", "asia-northeast2", "ap-northeast-3", "japan west"),
    "Seoul": ("seoul", "asia-northeast3", "ap-northeast-2", "korea central", "korea south", "busan"),
    "Taiwan": ("taiwan", "asia-east1", "changhua"),
    "Hong Kong": ("hong kong", "asia-east2", "ap-east-1", "east asia"),
    "Singapore": ("singapore", "asia-southeast1", "ap-southeast-1", "southeast asia"),
    "India": (
        "india",
        "mumbai",
        "pune",
        "chennai",
        "asia-south1",
        "ap-south-1",
        "central india",
        "south india",
    ),
    "Sydney": ("sydney", "australia-southeast1", "ap-southeast-2", "australia east"),
    "Melbourne": ("melbourne", "australia-southeast2", "australia southeast"),
    "N. Virginia": ("virginia", "us-east-1", "us-east4", "east us", "east us 2"),
    "Iowa": ("iowa", "us-central1", "central us"),
    "Oregon": ("oregon", "us-west-2", "us-west1"),
    "California": ("california", "us-west-1", "west us"),
    "Ireland": ("ireland", "dublin", "eu-west-1", "north europe"),
    "Netherlands": ("netherlands", "amsterdam", "europe-west4", "west europe"),
    "Belgium": ("belgium", "europe-west1"),
    "London": ("london", "europe-west2", "eu-west-2", "uk south"),
    "Frankfurt": ("frankfurt", "europe-west3", "eu-central-1", "germany west central"),
    "Brazil": ("brazil", "sao paulo", "southamerica-east1", "sa-east-1", "brazil south", "brazil southeast"),
}
# A continent in a terse query stands for its places.
CONTINENTS: dict[str, tuple[str, ...]] = {
    "asia": ("Tokyo", "Osaka", "Seoul", "Taiwan", "Hong Kong", "Singapore", "India"),
    "japan": ("Tokyo", "Osaka"),
    "australia": ("Sydney", "Melbourne"),
    "europe": ("Ireland", "Netherlands", "Belgium", "London", "Frankfurt"),
}


@dataclass(frozen=True)
class Concept:
    key: str
    label: str
    kind: str  # symptom | check | cause | detection | product | region
    phrases: tuple[str, ...]


def _table(kind: str, text: str) -> list[Concept]:
    found = []
    # A line ending with a comma goes on in the next one.
    for line in re.sub(r",\s*\n\s*", ", ", text.strip()).splitlines():
        key, label, phrases = (part.strip() for part in line.split("|"))
        found.append(Concept(key, label, kind, tuple(p.strip() for p in phrases.split(",") if p.strip())))
    return found


# key | label | phrases (any one means the concept). Order matters: a text is grouped under
# its first concept when only one is kept (first checks, causes).
_SYMPTOMS = """
auth | authentication or sign-in failures | authentication, authenticate, sign in, signin, login,
    log in, mfa, multi factor authentication, 401, unauthorized, token
dns | DNS resolution failures | dns, nxdomain, name resolution, resolver
5xx | HTTP 5xx responses | 5xx, 500, 502, 503, 504, 500s, 502s, 503s, 500 level,
    internal server error, bad gateway, gateway timeout
4xx | HTTP 4xx responses | 4xx, 403, 404, 429, forbidden, not found, too many requests
packet-loss | packet loss or dropped traffic | packet loss, packet drop, dropped packet,
    network drop, traffic drop
connectivity | connection failures | connection error, connection failure, connection timeout,
    connection reset, connectivity, unconnection, cannot connect, unable to connect,
    failed connection, reachability
timeout | timeouts | timeout, time out, timed out
latency | high latency | latency, slow, slowness, delay, response time, long queue
degraded | degraded performance | degraded performance, performance degradation, service degradation,
    degradation, throughput
resources | high CPU, memory or resource use | cpu, memory, resource utilization, resource usage,
    high load, out of memory, thread contention, disk i/o
pending | work stuck pending or unscheduled | pending, unschedulable, stuck, provisioning, queued
management | management operations failing | service management operation, management operation,
    create, update and delete
data | stale, lost or inconsistent data | data loss, stale, inconsistent, inconsistency,
    replication lag, corrupt
power | power loss | power down, power outage, power loss, power failure
errors | elevated error rate | error rate, errors, error, failure notification, failure, failed request
unavailable | service unavailable | unavailable, unavailability, outage, down, unreachable,
    inaccessible, unable to access, availability
"""
_CHECKS = """
rollback | rolled back the change | roll back, rollback, rolled back, revert, undo
failover | failed over or rerouted traffic | failover, fail over, failed over, reroute, rerouted,
    redirect, shift traffic, drain, traffic away, alternative route
restart | restarted or recycled | restart, reboot, recycle, bounce
isolate | took the faulty part out of rotation | out of rotation, remove the faulty,
    removed the faulty, isolate, faulty device, unhealthy, take offline
scale | added capacity or throttled | scale, add capacity, additional capacity, increase capacity,
    throttle, rate limit
hardware | replaced or repaired hardware | replace, replacement, repair, hardware
hotfix | deployed a fix | hotfix, patch, deploy a fix, deployed a fix, fix deployed, code fix
stop-change | stopped the deployment or maintenance | halt, stop the deployment,
    stopped the deployment, stop maintenance, paused
certificate | checked certificates | certificate, openssl, tls, ssl
dns | checked DNS | dig, dns
logs | read the logs | log
metrics | checked dashboards and metrics | dashboard, metric, graph, telemetry
trace | traced requests | trace, tracing
configuration | inspected the configuration | configuration
self-healed | recovered on its own | self heal, self-heal, recovered automatically, auto recover
"""
_CAUSES = """
config-change | configuration change | configuration change, configuration update, misconfiguration,
    misconfigured, incorrect configuration, configuration error, config
code-change | code change or deployment | code change, deployment, rollout, release, upgrade,
    new version, regression
certificate | expired or wrong certificate | certificate, expired
fiber | fiber or cable cut | fiber, fibre, cable
power | power or cooling failure | power, ups, generator, cooling, thermal
hardware | hardware failure | hardware, device failure, faulty device, network device, router, switch
capacity | capacity exhausted or overload | capacity, exhausted, exhaustion, insufficient resource,
    overload, surge, spike, payload flood, excessive flow, space
retries | retry storm | retry, retries
third-party | third-party or upstream failure | third party, third-party, upstream, provider
dns | DNS | dns
bug | software bug | bug, defect, race condition, software
"""
_DETECTION = """
customer | customer report | customer report, customers reported, customer reported, support ticket,
    support case, user report, reported by customer, reported by user, twitter
alert | alert | alert, alarm, paged, page, pagerduty, opsgenie, automated monitoring, monitoring,
    automate, automatic, automated, health monitoring
dashboard | dashboard | dashboard, graph, grafana
oncall | on-call noticed | noticed, on call, on-call, manual, manually
"""
_PRODUCTS = """
kubernetes | Kubernetes | kubernetes, google kubernetes engine, azure kubernetes service,
    elastic kubernetes service, pod
identity | identity (AAD, IAM) | azure active directory, active directory, identity, iam, b2c
bigquery | BigQuery | bigquery
load-balancer | load balancer | load balancer, load balancing, front door, traffic manager
storage | storage | storage, blob, bucket, s3, ebs, disk, file share
database | database | database, sql, cosmos, spanner, bigtable, datastore, redis, postgres, rds
compute | virtual machines | virtual machine, compute engine, ec2, instance
network | network | network, expressroute, vpn, virtual network, interconnect, direct connect
"""

CONCEPTS: tuple[Concept, ...] = tuple(
    _table("symptom", _SYMPTOMS)
    + _table("check", _CHECKS)
    + _table("cause", _CAUSES)
    + _table("detection", _DETECTION)
    + _table("product", _PRODUCTS)
    + [Concept(f"region:{name}", name, "region", names) for name, names in REGIONS.items()]
)
BY_KEY = {(c.kind, c.key): c for c in CONCEPTS}

# Where Snowball gives one idea two stems ("failing" -> fail, "failures" -> failur).
STEM_ALIASES = {"failur": "fail", "unavail": "unavail", "timeout": "timeout", "outag": "outag"}


@cache
def stem(word: str) -> str:
    stemmed = str(_stemmer().stemWord(word.lower()))
    return STEM_ALIASES.get(stemmed, stemmed)


@cache
def _stemmer() -> snowballstemmer.BaseStemmer:
    return snowballstemmer.stemmer("english")


def tokens(text: str) -> list[str]:
    """Lower-case words, abbreviations written out."""
    found: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        word = match.group(0).strip("'")
        found += ABBREVIATIONS.get(word, word).split()
    return found


def stems(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in tokens(text))


def content_stems(text: str) -> list[str]:
    """The stems that carry meaning: no stopwords, no single letters."""
    return [stem(w) for w in tokens(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


@cache
def _phrase(phrase: str) -> tuple[str, ...]:
    return stems(phrase)


@cache
def _content_phrase(phrase: str) -> tuple[str, ...]:
    """A phrase as a content-stem text holds it: "sign in" is found as "sign"."""
    return tuple(content_stems(phrase)) or _phrase(phrase)


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    if n == 0:
        return False
    first = needle[0]
    return any(
        haystack[i] == first and tuple(haystack[i : i + n]) == tuple(needle) for i in range(len(haystack))
    )


def concepts(text: str, kind: str) -> list[Concept]:
    """The concepts of one kind a text speaks of, in the table's order."""
    words = stems(text)
    return [c for c in CONCEPTS if c.kind == kind and any(_contains(words, _phrase(p)) for p in c.phrases)]


def free_key(text: str, *, most: int = 8) -> str | None:
    """A short text's meaning when no concept names it: its content stems, in order.

    Long texts (whole sentences of a report) have no free key: they are too particular to group.
    """
    words = content_stems(text)
    return " ".join(words) if 0 < len(words) <= most else None


# --- query expansion -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Idea:
    """One idea of a query: the word as typed and the other ways of saying it."""

    word: str
    phrases: tuple[str, ...]  # alternative phrases, plain words (the word's own expansion first)
    generic: bool = False  # says how it hurts ("failing", "slow"), not what or where


# Symptoms that every area has: in a query they count, but never alone.
GENERIC_SYMPTOMS = frozenset({"errors", "unavailable", "latency", "degraded", "timeout", "connectivity"})


@cache
def _synonyms_of(word: str) -> tuple[str, ...]:
    """Phrases meaning the same as one typed word, from the abbreviations, regions and concepts."""
    found: list[str] = []
    lowered = word.lower()
    if lowered in ABBREVIATIONS:
        found.append(ABBREVIATIONS[lowered])
    for place in CONTINENTS.get(lowered, ()):
        found.append(place.lower())  # the city only: every id of every place would drown the query
    typed = stems(ABBREVIATIONS.get(lowered, lowered))
    for name, names in REGIONS.items():
        if any(stems(n) == typed for n in (name.lower(), *names)):
            found += [name.lower(), *names]
    for concept in CONCEPTS:
        if concept.kind in {"product", "symptom"} and any(_phrase(p) == typed for p in concept.phrases):
            # A symptom's multi-word phrases ("failure notification") would drag in their common
            # words; its single words are the synonyms.
            found += [p for p in concept.phrases if concept.kind == "product" or len(_content_phrase(p)) == 1]
    # Same stems to us may differ to the database (its Porter stemmer): keep all but the word itself.
    return tuple(dict.fromkeys(p for p in found if p != lowered))


@cache
def _generic(plain: str) -> bool:
    return len(stems(plain)) == 1 and any(c.key in GENERIC_SYMPTOMS for c in concepts(plain, "symptom"))


def idea_groups(text: str, *, most: int = 40) -> list[Idea]:
    """The query's content words, each with its synonyms; multi-word abbreviations stay one idea."""
    ideas: dict[str, Idea] = {}
    for match in _TOKEN.finditer(text.lower()):
        word = match.group(0).strip("'")
        plain = ABBREVIATIONS.get(word, word)
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        key = " ".join(stems(plain))
        if key not in ideas:
            ideas[key] = Idea(word, _synonyms_of(word), _generic(plain))
        if len(ideas) >= most:
            break
    return list(ideas.values())


def expansions(text: str) -> list[str]:
    """Extra phrases to search with: the other ways of saying the query's words."""
    return list(dict.fromkeys(p for idea in idea_groups(text) for p in idea.phrases))


@dataclass(frozen=True)
class Text:
    """A text's stems, ready for many `mentions` questions."""

    words: tuple[str, ...]
    present: frozenset[str]

    @classmethod
    def of(cls, words: Iterable[str]) -> Text:
        kept = tuple(words)
        return cls(kept, frozenset(kept))


def mentions(idea: Idea, text: Text) -> bool:
    """Whether a text speaks of an idea: the word itself, or one of its phrases."""
    for phrase in (idea.word, *idea.phrases):
        needle = _content_phrase(phrase)
        if (
            needle
            and all(w in text.present for w in needle)
            and (len(needle) == 1 or _contains(text.words, needle))
        ):
            return True
    return False
