"""Converter from the public cloud post-mortem data set to Casebook's import format.

The data set (AWS, Azure, Google Cloud reports, 2011-2021, as structured by the ISSRE 2022
study "Going through the Life Cycle of Faults in Clouds") has one JSON object per file,
keyed by incident id. Field names are the authors' own, typos included (`service name`
beside `service_name`, `verificatio`). What maps onto the clinical case:

| data set | case |
| --- | --- |
| title | title |
| time (MM/DD/YYYY) + first clock time of the summary | started (provider's zone when none is said) |
| detection time / duration / fix time (minutes) | detected, mitigated (end of impact), resolved |
| summary, manifestation | symptoms (impact first, then the KPIs) |
| mitigation.troubleshooting (numbered) | diagnostic path (else the mitigation labels) |
| root cause details | root cause |
| root cause labels (3 layers) | area (see `area_for`), and kept in extra |
| operation (unless "normal operation") | contributing factor "triggering operation: ..." |
| service_name / service name | services |

Everything else (links, details, impact classes, mitigation labels, propagation path,
reproduction, human error, verification, the raw minutes) is kept in `extra`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from bot.insights.importer import Candidate
from bot.parsing import MONTHS

SOURCE_FORMAT = "cloud"
MAPPED = {
    "title",
    "time",
    "summary",
    "service_name",
    "service name",
    "manifestation",
    "detection",
    "root cause",
    "operation",
    "mitigation",
    "duration",
    "detection time",
    "fix time",
    "identification time",
}
PACIFIC = ZoneInfo("America/Los_Angeles")
ZONES: dict[str, dt.tzinfo] = {
    "utc": dt.UTC,
    "gmt": dt.UTC,
    "pst": dt.timezone(dt.timedelta(hours=-8)),
    "pdt": dt.timezone(dt.timedelta(hours=-7)),
    "pt": PACIFIC,
    "us/pacific": PACIFIC,
    "pacific": PACIFIC,
    "kst": dt.timezone(dt.timedelta(hours=9)),
    "jst": dt.timezone(dt.timedelta(hours=9)),
}
# Reports that name no zone: Azure writes UTC, Google and AWS write US/Pacific.
PROVIDER_ZONES: dict[str, dt.tzinfo] = {"azure": dt.UTC, "google": PACIFIC, "aws": PACIFIC}


def looks_like_cloud_document(document: Any) -> bool:
    """A data set file is an object of incident objects carrying the study's fields."""
    if not isinstance(document, dict) or not document or "cases" in document:
        return False
    first = next(iter(document.values()))
    return isinstance(first, dict) and ("root cause" in first or "manifestation" in first)


def candidates(documents: Iterable[tuple[str, Any]]) -> tuple[list[Candidate], list[str]]:
    """Import candidates from (file label, parsed JSON) pairs, and notes for the report.

    An incident id met again in a later file (a preliminary report, then the final one)
    keeps the later report, which supersedes the earlier.
    """
    by_key: dict[str, Candidate] = {}
    file_of: dict[str, str] = {}
    notes: list[str] = []
    for label, document in documents:
        if not isinstance(document, dict):
            notes.append(f"{label}: not an object of incidents; skipped")
            continue
        provider = _provider(label)
        for key, record in document.items():
            if key in by_key:
                notes.append(f"{key}: the report in {label} supersedes the one in {file_of[key]}")
            data = convert(str(key), record, provider=provider) if isinstance(record, dict) else record
            by_key[key], file_of[key] = Candidate(f"{label} {key}", data, SOURCE_FORMAT), label
    return list(by_key.values()), notes


def _provider(label: str) -> str:
    lowered = label.lower()
    return next((p for p in ("azure", "aws", "google") if p in lowered), "google")


def convert(key: str, record: Mapping[str, Any], *, provider: str) -> dict[str, Any]:
    """One data set record as a Casebook import record (validated later, like any other)."""
    services = _strings(record.get("service_name") or record.get("service name"))
    labels = _labels(record.get("root cause"))
    operations = _strings(record.get("operation"))
    timeline, basis = _timeline(record, provider)
    root = _mapping(record.get("root cause"))
    return {
        "id": f"cloud:{key}",
        "title": _clip(str(record.get("title") or key), 300),
        "area": area_for(labels, services, str(record.get("title") or "")),
        "services": [_clip(s, 80) for s in services],
        "timeline": timeline,
        "symptoms": _symptoms(record),
        "diagnostic_path": _diagnosis(record),
        "root_cause": _text(root.get("details")) or (f"Classified as {labels[0]}" if labels else None),
        "contributing_factors": [
            f"Triggering operation: {op}"
            for op in operations
            if op.lower() not in {"normal operation", "normal"}
        ],
        "extra": _extra(key, record, provider, labels, basis),
    }


# --- area ----------------------------------------------------------------------------------------

_LABEL_AREAS = {
    "config": "deploy",
    "code change": "deploy",
    "component removal": "deploy",
    "payload flood": "capacity",
    "excessive flow": "capacity",
    "insufficient resource": "capacity",
    "space": "capacity",
    "third-party failures": "dependency",
    "network": "network",
    "fiber cut": "network",
    "network device": "network",
    "cable set": "network",
    "disk": "storage",
}
_SOFTWARE = {"software bugs", "softwares bugs", "software failures"}
_KEYWORD_AREAS = (
    ("security", ("active directory", "iam", "identity", "oauth", "authentication", "key vault", "login")),
    ("data", ("sql", "database", "datastore", "bigquery", "cosmos", "spanner", "bigtable", "redis")),
    ("storage", ("storage", "blob", "disk", "s3", "ebs", "bucket", "gcs")),
    ("network", ("network", "dns", "cdn", "load balanc", "vpn", "expressroute", "front door", "traffic")),
    (
        "compute",
        ("virtual machine", "compute", "app engine", "kubernetes", "container", "ec2", "app service"),
    ),
)


def area_for(labels: list[str], services: list[str], title: str) -> str:
    """The capability area: from the root-cause label when it says, else from what was hit.

    Hardware faults of power and cooling have no area of their own: they go to `other`.
    """
    if labels:
        layers = labels[0].split(" / ")
        for layer in reversed(layers[1:]):
            if layer in _LABEL_AREAS:
                return _LABEL_AREAS[layer]
        if len(layers) > 1 and layers[1] in _SOFTWARE:
            return "code"
        if len(layers) > 1 and layers[1] == "hardware failures":
            return "other"
    haystack = " ".join([*services, title]).lower()
    for area, needles in _KEYWORD_AREAS:
        if any(re.search(rf"\b{re.escape(n)}", haystack) for n in needles):
            return area
    return "other"


def _labels(root: Any) -> list[str]:
    if not isinstance(root, dict):
        return []
    raw = root.get("label")
    entries = raw if isinstance(raw, list) else [root]
    labels = []
    for entry in entries:
        if isinstance(entry, dict):
            layers = [str(entry[k]).strip() for k in ("layer-1", "layer-2", "layer-3") if entry.get(k)]
            if layers and layers[0] != "unknown":
                labels.append(" / ".join(layers))
    return labels


# --- symptoms and diagnosis ------------------------------------------------------------------------

_SUMMARY_PREFIX = re.compile(r"^\s*(summary of impact|summary)\s*:\s*", re.IGNORECASE)


def _symptoms(record: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    summary = _SUMMARY_PREFIX.sub("", _text(record.get("summary")) or "")
    if summary:
        found.append(_clip(summary, 4000))
    for item in record.get("manifestation") or []:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):  # {"business kpi": [...], "system kpi": [...]}: kind kept in extra
            for values in item.values():
                found += _strings(values)
    # How it was noticed (`detection`) is not what was seen: it is kept in extra["detection"], the
    # capability map's detection dimension.
    return _unique([_clip(s, 4000) for s in found if s.strip()])


def _diagnosis(record: Mapping[str, Any]) -> list[str]:
    steps: list[str] = []
    mitigation = record.get("mitigation")
    troubleshooting = mitigation.get("troubleshooting") if isinstance(mitigation, dict) else None
    if isinstance(troubleshooting, dict):
        ordered = sorted(troubleshooting.items(), key=lambda kv: _number(kv[0]))
        steps += [_clip(str(v).strip(), 4000) for _, v in ordered if str(v).strip()]
    elif isinstance(mitigation, dict):
        steps += [f"Mitigation: {label}" for label in _strings(mitigation.get("label"))]
    return _unique(steps)


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return float("inf")


# --- timeline ---------------------------------------------------------------------------------------

_MONTHS = {**MONTHS, "sept": 9}  # the reports also write "Sept"
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(\d{{4}})", re.IGNORECASE)
_MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})", re.IGNORECASE)
_ZONE = r"(UTC|GMT|PST|PDT|PT|KST|JST|US/Pacific|Pacific)?"
_CLOCK = re.compile(
    r"\b(?:between|from|began at|beginning at|starting at|start(?:ed)? at|since|at)\s+"
    r"(?:approximately\s+|about\s+|as early as\s+)?(?:[A-Za-z]+\s+\d{1,2},?\s+)?"
    rf"(\d{{1,2}}):(\d{{2}})\s*(am|pm)?\s*{_ZONE}",
    re.IGNORECASE,
)


def _report_date(value: Any) -> dt.date | None:
    match = re.fullmatch(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*", str(value or ""))
    if not match:
        return None
    month, day, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _text_date(text: str) -> dt.date | None:
    for pattern, order in ((_DAY_MONTH_YEAR, "dmy"), (_MONTH_DAY_YEAR, "mdy")):
        match = pattern.search(text)
        if match:
            a, b, year = match.groups()
            day, month = (a, b) if order == "dmy" else (b, a)
            try:
                return dt.date(int(year), _MONTHS[month.lower().rstrip(".")], int(day))
            except (ValueError, KeyError):
                continue
    return None


def _start(record: Mapping[str, Any], provider: str) -> tuple[dt.datetime | None, str]:
    summary = _text(record.get("summary")) or ""
    # The summary's own date wins: the `time` field is sometimes the report's, not the incident's.
    day = _text_date(summary) or _report_date(record.get("time"))
    if day is None:
        return None, "unknown"
    for text in (summary, _text(record.get("details")) or ""):
        match = _CLOCK.search(text)
        if match:
            hour, minute, meridiem, zone_name = match.groups()
            hour_value = (
                int(hour) % 12 + (12 if (meridiem or "").lower() == "pm" else 0) if meridiem else int(hour)
            )
            if hour_value < 24 and int(minute) < 60:
                zone = ZONES.get((zone_name or "").lower(), PROVIDER_ZONES.get(provider, dt.UTC))
                local = dt.datetime.combine(day, dt.time(hour_value, int(minute)), tzinfo=zone)
                return local.astimezone(dt.UTC), "clock time in the report"
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC), "date only (00:00 UTC)"


def _minutes(record: Mapping[str, Any], name: str) -> int | None:
    value = record.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _timeline(record: Mapping[str, Any], provider: str) -> tuple[dict[str, str | None], str]:
    """Start from the report; detected = start + detection time; mitigated = end of the impact
    window (start + duration); resolved = start + the longer of duration and fix time."""
    started, basis = _start(record, provider)
    if started is None:
        return {}, basis
    duration, detection, fix = (_minutes(record, n) for n in ("duration", "detection time", "fix time"))
    mitigated = started + dt.timedelta(minutes=duration) if duration is not None else None
    end = max(m for m in (duration, fix, 0) if m is not None)
    resolved = started + dt.timedelta(minutes=end) if (duration is not None or fix is not None) else None
    detected = started + dt.timedelta(minutes=detection) if detection is not None else None
    if detected is not None and mitigated is not None and detected > mitigated:
        detected = mitigated
    return {
        "started": started.isoformat(),
        "detected": detected.isoformat() if detected else None,
        "mitigated": mitigated.isoformat() if mitigated else None,
        "resolved": resolved.isoformat() if resolved else None,
    }, basis


# --- the rest -------------------------------------------------------------------------------------------


def _extra(
    key: str, record: Mapping[str, Any], provider: str, labels: list[str], basis: str
) -> dict[str, Any]:
    mitigation = _mapping(record.get("mitigation"))
    detection = _mapping(record.get("detection"))
    kept: dict[str, Any] = {
        "source": "cloud post-mortems (ISSRE 2022 data set)",
        "provider": provider,
        "incident_id": key,
        "report_date": record.get("time"),
        "timeline_basis": basis,
        "minutes": {
            "duration": _minutes(record, "duration"),
            "detection": _minutes(record, "detection time"),
            "identification": _minutes(record, "identification time"),
            "fix": _minutes(record, "fix time"),
        },
        "root_cause_labels": labels,
        "detection": {"method": detection.get("method"), "tool": _strings(detection.get("tool"))},
        "mitigation": {"labels": _strings(mitigation.get("label")), "details": mitigation.get("details")},
        "operation": _strings(record.get("operation")),
        "manifestation": record.get("manifestation"),
    }
    for name, value in record.items():
        if name in MAPPED:
            continue
        normal = "verification" if name.startswith("verif") else name.replace(" ", "_")
        kept[normal] = value
    return kept


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return _unique([" ".join(str(v).split()) for v in items if str(v).strip()])


def _text(value: Any) -> str | None:
    return " ".join(str(value).split()) or None if value else None


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
