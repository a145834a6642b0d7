"""The value ledger as a reader sees it: Markdown for chat and terminal, CSV, JSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from bot.insights.capability_map import label
from bot.insights.ledger import (
    MEASURES,
    MIN_SIDE_DAYS,
    MIN_SIDE_INCIDENTS,
    SEVERITY_KEYS,
    BeforeAfter,
    Ledger,
    PeriodFigures,
    Timing,
)
from bot.parsing import AREAS, format_duration

SHOWN_REPEATS = 8  # pairs listed per period; `--json` lists them all
MEASURE_NAMES = {"detect": "Detect", "mitigate": "Mitigate", "resolve": "Resolve"}


def minutes(value: float | None) -> str:
    return format_duration(dt.timedelta(minutes=value)) if value is not None else "—"


def percent(value: float | None, *, signed: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.0f}%" if signed else f"{value:.0f}%"


def _timing(name: str, timing: Timing) -> str:
    if timing.median is None:
        return f"{name} —"
    trend = f", {percent(timing.trend)} vs previous" if timing.trend is not None else ""
    return f"{name} {minutes(timing.median)} (p90 {minutes(timing.p90)}, n={timing.count}{trend})"


def same_series(a: Timing, b: Timing) -> bool:
    return (a.median, a.p90, a.count) == (b.median, b.p90, b.count)


def _timings(figures: PeriodFigures) -> str:
    """Detect, mitigate, resolve; mitigate and resolve once when they are the same figures."""
    t = figures.timings
    if t["mitigate"].median is not None and same_series(t["mitigate"], t["resolve"]):
        return " · ".join([_timing("Detect", t["detect"]), _timing("Mitigate = resolve", t["resolve"])])
    return " · ".join(_timing(MEASURE_NAMES[m], t[m]) for m in MEASURES)


def _costs(figures: PeriodFigures) -> str | None:
    lost = figures.misjudgment_minutes
    if not lost and not figures.misjudgments_uncosted:
        return None
    by_area = ", ".join(f"{label(a)} {minutes(m)}" for a, m in lost.items())
    total = sum(lost.values())
    text = f"  Misjudgment cost: {minutes(total) if lost else 'none stated'}" + (
        f" ({by_area})" if lost else ""
    )
    if figures.misjudgments_uncosted:
        text += f"; {figures.misjudgments_uncosted} without a stated cost"
    return text


def _burden(figures: PeriodFigures) -> str | None:
    burden = figures.burden
    if burden is None:
        return None
    unknown = f"; {burden.unknown} without responders or times" if burden.unknown else ""
    return (
        f"  On-call burden: {burden.mean_hours:.1f} responder-hours per incident "
        f"(p90 {burden.p90_hours:.1f}, total {burden.total_hours:.1f}, n={burden.incidents}{unknown})"
    )


def _period_lines(figures: PeriodFigures) -> list[str]:
    head = f"**{figures.period.label}** · "
    if figures.incidents:
        severities = ", ".join(f"{k} {v}" for k, v in figures.by_severity.items())
        areas = ", ".join(f"{label(k)} {v}" for k, v in figures.by_area.items())
        lines = [head + f"{len(figures.incidents)} incident(s): {severities} · {areas}"]
        lines.append("  " + _timings(figures))
        changes = len(figures.change_failures)
        lines.append(
            f"  Change failures: {changes} of {len(figures.incidents)} "
            f"({changes / len(figures.incidents):.0%}) set off by a deploy or config change"
        )
        lines += [line for line in (_costs(figures), _burden(figures)) if line]
        if figures.repeats:
            pairs = [f"#{a} after #{b}" for a, b in sorted(figures.repeats.items())]
            shown = ", ".join(pairs[:SHOWN_REPEATS]) + (
                f", +{len(pairs) - SHOWN_REPEATS} more" if len(pairs) > SHOWN_REPEATS else ""
            )
            lines.append(f"  Repeats: {len(figures.repeats)} ({shown})")
        else:
            lines.append("  Repeats: none")
    else:
        lines = [head + "no incidents"]
    follow = figures.follow_through
    if follow.due or follow.closed_in_period:
        lines.append(
            f"  Actions due {follow.due}: {follow.on_time} closed on time "
            f"({percent(follow.on_time_share, signed=False)}), {follow.overdue_now} overdue now · "
            f"{follow.closed_in_period} closed, median {_days(follow.median_days_to_close)} to close"
        )
    return lines


def _days(value: float | None) -> str:
    return f"{value:.1f} days" if value is not None else "—"


def _before_after(item: BeforeAfter) -> str:
    def rate(value: float | None) -> str:
        return f"{value:.2f}" if value is not None else "—"

    if not item.enough:
        return (
            f"- **{label(item.area)}** (first of {item.closed_actions} action(s) closed "
            f"{item.pivot.isoformat()}): not enough data yet — before {item.before_incidents} incident(s) "
            f"over {item.before_days:.0f} days, after {item.after_incidents} over {item.after_days:.0f} days"
        )
    return (
        f"- **{label(item.area)}** (first of {item.closed_actions} action(s) closed "
        f"{item.pivot.isoformat()}): "
        f"incidents per 30 days {rate(item.before_per_30_days)} → {rate(item.after_per_30_days)} "
        f"({item.before_incidents} → {item.after_incidents}); repeats {item.before_repeats} → "
        f"{item.after_repeats}; median time to resolve {minutes(item.before_median_resolve)} → "
        f"{minutes(item.after_median_resolve)}"
    )


def markdown(ledger: Ledger) -> str:
    window = ledger.window
    first, last = window.periods[0].label, window.periods[-1].label
    lines = [
        f"**Value ledger** — {window.kind}ly, {first} to {last} (as of {ledger.today.isoformat()}). "
        "Times are medians (p90), with the change against the previous period."
    ]
    if not any(f.incidents for f in ledger.periods) and ledger.latest_incident is not None:
        hint = ledger.latest_incident.strftime("%Y-%m")
        lines.append(f"_No incidents in this window; the latest started in {hint}: try `ledger {hint}`._")
    for figures in ledger.periods:
        lines += _period_lines(figures)
    if ledger.before_after:
        lines.append(
            "\n**Before and after closing prevention actions** (compared with at least "
            f"{MIN_SIDE_INCIDENTS} incidents and {MIN_SIDE_DAYS} days on each side)"
        )
        lines += [_before_after(item) for item in ledger.before_after]
    lines.append(f"\n**Overdue now:** {ledger.overdue_now} action(s) past their due date.")
    return "\n".join(lines)


# --- CSV and JSON ---------------------------------------------------------------------------------------

SHORT = {"detect": "ttd", "mitigate": "ttm", "resolve": "ttr"}
CSV_AREAS = (*AREAS, "unset")  # every area has its column, so files of different windows line up


def csv_columns() -> list[str]:
    columns = ["period", "start", "end", "incidents"]
    columns += [f"severity_{k.lower()}" for k in SEVERITY_KEYS]
    columns += [f"area_{a}" for a in CSV_AREAS]
    for measure in MEASURES:
        columns += [
            f"{SHORT[measure]}_median_min",
            f"{SHORT[measure]}_p90_min",
            f"{SHORT[measure]}_trend_pct",
        ]
    columns += [
        "repeats",
        "actions_due",
        "closed_on_time",
        "on_time_pct",
        "actions_closed",
        "median_days_to_close",
        "overdue_now",
        "change_failures",
        "misjudgment_min",
        "responder_hours_per_incident",
    ]
    return columns


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def csv_rows(ledger: Ledger) -> list[dict[str, Any]]:
    rows = []
    for figures in ledger.periods:
        follow = figures.follow_through
        row: dict[str, Any] = {
            "period": figures.period.label,
            "start": figures.period.start.isoformat(),
            "end": (figures.period.end - dt.timedelta(days=1)).isoformat(),
            "incidents": len(figures.incidents),
            **{f"severity_{k.lower()}": figures.by_severity.get(k, 0) for k in SEVERITY_KEYS},
            **{f"area_{a}": figures.by_area.get(a, 0) for a in CSV_AREAS},
            "repeats": len(figures.repeats),
            "actions_due": follow.due,
            "closed_on_time": follow.on_time,
            "on_time_pct": _number(follow.on_time_share),
            "actions_closed": follow.closed_in_period,
            "median_days_to_close": _number(follow.median_days_to_close),
            "overdue_now": follow.overdue_now,
            "change_failures": len(figures.change_failures),
            "misjudgment_min": _number(sum(figures.misjudgment_minutes.values()) or None),
            "responder_hours_per_incident": _number(figures.burden.mean_hours if figures.burden else None),
        }
        for measure in MEASURES:
            timing = figures.timings[measure]
            row[f"{SHORT[measure]}_median_min"] = _number(timing.median)
            row[f"{SHORT[measure]}_p90_min"] = _number(timing.p90)
            row[f"{SHORT[measure]}_trend_pct"] = _number(timing.trend)
        rows.append(row)
    return rows


def to_csv(ledger: Ledger) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=csv_columns(), lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(ledger))
    return out.getvalue()


def as_json(ledger: Ledger) -> dict[str, Any]:
    return {
        "kind": ledger.window.kind,
        "as_of": ledger.today.isoformat(),
        "periods": [
            {
                **row,
                "cases": list(figures.incidents),
                "repeat_of": {str(k): v for k, v in figures.repeats.items()},
            }
            for row, figures in zip(csv_rows(ledger), ledger.periods, strict=True)
        ],
        "before_after": [
            {
                "area": b.area,
                "pivot": b.pivot.isoformat(),
                "closed_actions": b.closed_actions,
                "incidents": [b.before_incidents, b.after_incidents],
                "per_30_days": [b.before_per_30_days, b.after_per_30_days],
                "repeats": [b.before_repeats, b.after_repeats],
                "median_resolve_min": [b.before_median_resolve, b.after_median_resolve],
                "days": [b.before_days, b.after_days],
                "enough_data": b.enough,
            }
            for b in ledger.before_after
        ],
        "overdue_now": ledger.overdue_now,
    }
