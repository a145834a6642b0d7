"""Small SVG bar charts, drawn on the server: no script, text escaped, colours as attributes
(the CSP forbids inline styles)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from bot.insights.capability_map import CapabilityMap, label
from bot.insights.ledger import SEVERITY_KEYS, Ledger

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 240, 52, 40, 24
SEVERITY_COLOURS = {
    "SEV1": "#b42318",
    "SEV2": "#dc6803",
    "SEV3": "#eaaa08",
    "SEV4": "#4e9a06",
    "unset": "#98a2b3",
}
PLAIN = "#2e6fb7"


@dataclass(frozen=True)
class Bar:
    label: str
    parts: tuple[tuple[str, float, str], ...]  # (series name, value, colour), stacked bottom-up

    @property
    def total(self) -> float:
        return sum(value for _, value, _ in self.parts)


def bars(
    title: str, items: Sequence[Bar], *, unit: str = "", legend: Sequence[tuple[str, str]] = ()
) -> Markup:
    """A stacked bar chart with its title, axis labels and a legend; an empty one says so."""
    plot_w, plot_h = WIDTH - PAD_LEFT - 10, HEIGHT - PAD_TOP - PAD_BOTTOM
    top = max((b.total for b in items), default=0.0)
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="{PAD_LEFT}" y="14" font-size="15" font-weight="bold" fill="#1d2939">'
        f"{escape(title)}</text>",
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - 10}" y2="{PAD_TOP + plot_h}" '
        'stroke="#98a2b3"/>',
    ]
    if not items or top <= 0:
        out.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" font-size="15" '
            'fill="#667085">no data yet</text>'
        )
    else:
        slot = plot_w / len(items)
        width = min(56.0, max(4.0, slot * 0.6))  # a lone bar stays a bar, not a wall
        out.append(_tick(top, unit, PAD_TOP))
        for i, bar in enumerate(items):
            x = PAD_LEFT + i * slot + (slot - width) / 2
            y = float(PAD_TOP + plot_h)
            for name, value, colour in bar.parts:
                h = value / top * plot_h
                if h <= 0:
                    continue
                y -= h
                out.append(
                    f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" '
                    f'fill="{colour}">'
                    f"<title>{escape(bar.label)}: {escape(name)} {value:g}{escape(unit)}</title></rect>"
                )
            out.append(
                f'<text x="{x + width / 2:.1f}" y="{PAD_TOP + plot_h + 14}" text-anchor="middle" '
                f'font-size="13" fill="#475467">{escape(bar.label)}</text>'
            )
    for i, (name, colour) in enumerate(legend):
        x = PAD_LEFT + i * 100
        out.append(f'<rect x="{x}" y="{HEIGHT - 12}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="{HEIGHT - 3}" font-size="13" fill="#475467">{escape(name)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def _tick(top: float, unit: str, y: float) -> str:
    return (
        f'<text x="{PAD_LEFT - 4}" y="{y + 4}" text-anchor="end" font-size="13" fill="#475467">'
        f"{top:g}{escape(unit)}</text>"
    )


def ledger_charts(ledger: Ledger) -> list[Markup]:
    periods = ledger.periods
    incidents = [
        Bar(
            f.period.label,
            tuple((k, float(f.by_severity.get(k, 0)), SEVERITY_COLOURS[k]) for k in SEVERITY_KEYS),
        )
        for f in periods
    ]
    resolve = [
        Bar(
            f.period.label,
            (("median time to resolve", round((f.timings["resolve"].median or 0) / 60, 1), PLAIN),),
        )
        for f in periods
    ]
    on_time = [
        Bar(f.period.label, (("closed on time", round(f.follow_through.on_time_share or 0), "#4e9a06"),))
        for f in periods
    ]
    repeats = [Bar(f.period.label, (("repeats", float(len(f.repeats)), "#b42318"),)) for f in periods]
    return [
        bars("Incidents by severity", incidents, legend=[(k, SEVERITY_COLOURS[k]) for k in SEVERITY_KEYS]),
        bars("Median time to resolve (hours)", resolve, unit=" h"),
        bars("Repeat incidents", repeats),
        bars("Actions due and closed on time (%)", on_time, unit="%"),
    ]


def map_chart(found: CapabilityMap) -> Markup:
    items = [Bar(label(a.area), (("cases", float(len(a.cases)), PLAIN),)) for a in found.areas]
    return bars("Cases per capability area", items)
