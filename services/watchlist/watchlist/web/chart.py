"""A firm's reports over time by organisation, as bars an SVG draws: no script, no CDN."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from projector.queries import TimelineItem

# Distinguishable for common colour blindness (Okabe–Ito), and each bar is labelled too.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
HEIGHT = 120
BAR = 28
GAP = 12


@dataclass
class Block:
    x: int
    y: int
    height: int
    colour: str
    label: str


@dataclass
class Chart:
    width: int
    height: int
    months: list[tuple[int, str]]
    totals: list[tuple[int, int, int]]  # x, y of the stack's top, reports that month
    blocks: list[Block]
    legend: list[tuple[str, str]]
    total: int


def reports_by_month(items: list[TimelineItem]) -> Chart:
    """Stacked bars: one per month with a report, one colour per organisation."""
    counts: Counter[tuple[str, str]] = Counter()
    for item in items:
        if item.kind == "submitted":
            counts[(item.time.strftime("%Y-%m"), item.organisation or "—")] += 1
    months = sorted({month for month, _ in counts})
    organisations = sorted({org for _, org in counts})
    colour = {org: COLOURS[i % len(COLOURS)] for i, org in enumerate(organisations)}
    tallest = max(
        (sum(n for (m, _), n in counts.items() if m == month) for month in months), default=1
    )
    unit = HEIGHT / tallest
    blocks, labels, totals = [], [], []
    for i, month in enumerate(months):
        x, top = GAP + i * (BAR + GAP), HEIGHT
        labels.append((x, month))
        for org in organisations:
            n = counts.get((month, org), 0)
            if n:
                height = round(n * unit)
                top -= height
                blocks.append(Block(x, top, height, colour[org], f"{month}: {org}, {n}"))
        totals.append((x, top, sum(counts.get((month, org), 0) for org in organisations)))
    return Chart(
        width=GAP + max(len(months), 1) * (BAR + GAP),
        height=HEIGHT,
        months=labels,
        totals=totals,
        blocks=blocks,
        legend=[(org, colour[org]) for org in organisations],
        total=sum(counts.values()),
    )
