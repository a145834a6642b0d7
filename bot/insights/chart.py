"""The ledger's trends as a PNG a person can read at a glance (matplotlib, no display needed).

Four panels over the periods: incidents by severity; median time to detect, mitigate and
resolve; incidents and repeats; prevention actions due, closed on time and overdue.
Uses matplotlib's object API (a Figure rendered by the Agg canvas), never pyplot's global
state, so it is safe in a server.
"""

from __future__ import annotations

import io
from typing import Any

from bot.insights.ledger import MEASURES, SEVERITY_KEYS, Ledger

SEVERITY_COLOURS = {
    "SEV1": "#b2182b",
    "SEV2": "#ef8a62",
    "SEV3": "#fddbc7",
    "SEV4": "#d1e5f0",
    "unset": "#bababa",
}
MEASURE_STYLE = {
    "detect": ("to detect", "#1b9e77", "o"),
    "mitigate": ("to mitigate", "#d95f02", "s"),
    "resolve": ("to resolve", "#7570b3", "^"),
}


def render_png(ledger: Ledger) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = [f.period.label for f in ledger.periods]
    x = list(range(len(labels)))
    figure = Figure(figsize=(12, 8), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    window = ledger.window
    figure.suptitle(
        f"Casebook value ledger — {window.kind}ly, {labels[0]} to {labels[-1]} "
        f"(as of {ledger.today.isoformat()})",
        fontsize=14,
        fontweight="bold",
    )
    incidents, times, repeats, actions = figure.subplots(2, 2).flat
    _severity_panel(incidents, ledger, x)
    _times_panel(times, ledger, x)
    _repeats_panel(repeats, ledger, x)
    _actions_panel(actions, ledger, x)
    crowded = len(labels) > 6
    for axes in (incidents, times, repeats, actions):
        axes.set_xticks(x, labels, rotation=40 if crowded else 0, ha="right" if crowded else "center")
        axes.set_xlim(-0.6, len(x) - 0.4)
        axes.grid(axis="y", alpha=0.3)
        axes.spines[["top", "right"]].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _severity_panel(axes: Any, ledger: Ledger, x: list[int]) -> None:
    bottom = [0] * len(x)
    for severity in SEVERITY_KEYS:
        counts = [f.by_severity.get(severity, 0) for f in ledger.periods]
        if any(counts):
            name = "no severity" if severity == "unset" else severity
            axes.bar(
                x, counts, bottom=bottom, color=SEVERITY_COLOURS[severity], label=name, edgecolor="white"
            )
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_title("Incidents by severity")
    axes.set_ylabel("incidents")
    axes.yaxis.get_major_locator().set_params(integer=True)
    if any(bottom):
        axes.legend(loc="upper left", fontsize=9, ncols=5, frameon=False)
        axes.set_ylim(0, max(bottom) * 1.3)
    else:
        _empty(axes, "no incidents in this window")


def _times_panel(axes: Any, ledger: Ledger, x: list[int]) -> None:
    plotted, highest = False, 0.0
    for measure in MEASURES:
        name, colour, marker = MEASURE_STYLE[measure]
        hours = _hours(ledger, measure)
        if measure == "mitigate" and _same(hours, _hours(ledger, "resolve")):
            name = "to mitigate (= to resolve)"
        if measure == "resolve" and _same(hours, _hours(ledger, "mitigate")):
            continue  # the same line twice would hide one under the other
        if any(h == h for h in hours):  # NaN != NaN: at least one real value
            axes.plot(x, hours, marker=marker, color=colour, label=name, linewidth=2)
            plotted, highest = True, max([highest, *(h for h in hours if h == h)])
    axes.set_title("Median time from start of impact")
    axes.set_ylabel("hours")
    axes.set_ylim(0, max(highest, 1 / 60) * 1.35)
    if plotted:
        axes.legend(loc="upper left", fontsize=9, ncols=3, frameon=False)
    else:
        _empty(axes, "no timed incidents in this window")


def _hours(ledger: Ledger, measure: str) -> list[float]:
    return [
        t.median / 60 if (t := f.timings[measure]).median is not None else float("nan")
        for f in ledger.periods
    ]


def _same(a: list[float], b: list[float]) -> bool:
    return all((p != p and q != q) or p == q for p, q in zip(a, b, strict=True))


def _repeats_panel(axes: Any, ledger: Ledger, x: list[int]) -> None:
    # Incidents are in the severity panel already: this one shows what kind of incidents they were.
    changes = [len(f.change_failures) for f in ledger.periods]
    repeated = [len(f.repeats) for f in ledger.periods]
    totals = [len(f.incidents) for f in ledger.periods]
    width = 0.4
    axes.bar([i - width / 2 for i in x], changes, width, color="#4575b4", label="set off by a change")
    axes.bar([i + width / 2 for i in x], repeated, width, color="#b2182b", label="repeats (within 90 days)")
    axes.set_title("Change failures and repeat incidents")
    axes.set_ylabel("incidents")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="upper left", fontsize=9, frameon=False)
    axes.set_ylim(0, max([*totals, 1]) * 1.3)


def _actions_panel(axes: Any, ledger: Ledger, x: list[int]) -> None:
    follow = [f.follow_through for f in ledger.periods]
    width = 0.27
    due = [f.due for f in follow]
    axes.bar([i - width for i in x], due, width, color="#bababa", label="due")
    axes.bar(x, [f.on_time for f in follow], width, color="#1a9850", label="closed on time")
    axes.bar(
        [i + width for i in x], [f.overdue_now for f in follow], width, color="#d73027", label="overdue now"
    )
    for i, f in zip(x, follow, strict=True):
        if f.on_time_share is not None:
            axes.annotate(
                f"{f.on_time_share:.0f}% on time",
                (i, f.due),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                fontsize=9,
            )
    axes.set_title("Prevention follow-through (actions by due date)")
    axes.set_ylabel("actions")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="upper left", fontsize=9, ncols=3, frameon=False)
    axes.set_ylim(0, max([*due, 1]) * 1.35)
    if not any(due):
        _empty(axes, "no prevention actions due in this window")


def _empty(axes: Any, text: str) -> None:
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", color="#666666")
