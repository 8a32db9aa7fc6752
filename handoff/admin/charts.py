"""Small SVG charts for the admin page: a confusion matrix and per-intent F1 bars.

Drawn as plain SVG text (no plotting library in the desk); every label is XML-escaped.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

FONT = "font-family='system-ui, sans-serif' font-size='11'"


def confusion_matrix(labels: list[str], matrix: list[list[int]]) -> str:
    """Gold intents as rows, predicted as columns; darker = more messages."""
    n = len(labels)
    cell, left, top = 14, 190, 190
    width, height = left + n * cell + 10, top + n * cell + 10
    peak = max((v for row in matrix for v in row), default=0) or 1
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
        f"aria-label='Verwarringsmatrix: juiste intentie (rij) tegen voorspelde intentie (kolom)'>",
        f"<rect width='{width}' height='{height}' fill='#fff'/>",
    ]
    for i, label in enumerate(labels):
        y = top + i * cell + cell - 3
        parts.append(f"<text x='{left - 4}' y='{y}' text-anchor='end' {FONT}>{escape(label)}</text>")
        x = left + i * cell + cell - 3
        parts.append(f"<text transform='translate({x},{top - 4}) rotate(-90)' {FONT}>{escape(label)}</text>")
    for r, row in enumerate(matrix):
        for c, value in enumerate(row):
            if not value:
                continue
            share = value / peak
            colour = "#8a1c1c" if r != c else "#0b4f8a"
            parts.append(
                f"<rect x='{left + c * cell}' y='{top + r * cell}' width='{cell - 1}' height='{cell - 1}' "
                f"fill='{colour}' fill-opacity='{0.15 + 0.85 * share:.2f}'><title>{escape(labels[r])} → "
                f"{escape(labels[c])}: {value}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


def f1_bars(per_intent: dict[str, float], live: dict[str, float] | None = None) -> str:
    """One bar per intent (this model), with a tick for the live model when given."""
    names = sorted(per_intent)
    row, left, scale = 16, 190, 300
    width, height = left + scale + 60, row * len(names) + 30
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
        f"aria-label='F1 per intentie'>",
        f"<rect width='{width}' height='{height}' fill='#fff'/>",
    ]
    for i, name in enumerate(names):
        y = 10 + i * row
        value = per_intent[name]
        parts.append(f"<text x='{left - 4}' y='{y + 11}' text-anchor='end' {FONT}>{escape(name)}</text>")
        colour = "#0b4f8a" if value >= 0.8 else "#8a4f00" if value >= 0.6 else "#8a1c1c"
        parts.append(f"<rect x='{left}' y='{y + 2}' width='{value * scale:.1f}' height='{row - 5}' fill='{colour}'/>")
        parts.append(f"<text x='{left + value * scale + 4:.1f}' y='{y + 11}' {FONT}>{value:.2f}</text>")
        if live and name in live:
            x = left + live[name] * scale
            parts.append(
                f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{y}' y2='{y + row - 1}' stroke='#1a1a1a' stroke-width='2'/>"
            )
    parts.append("</svg>")
    return "".join(parts)


def day_bars(counts: dict[str, int], label: str) -> str:
    """Vertical bars, one per day (ISO date keys in order), with the count on hover."""
    days = list(counts)
    peak = max(counts.values(), default=0) or 1
    bar, gap, height, bottom = 14, 3, 160, 40
    width = max(200, 40 + len(days) * (bar + gap))
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height + bottom}' role='img' "
        f"aria-label='{escape(label)}'>",
        f"<rect width='{width}' height='{height + bottom}' fill='#fff'/>",
        f"<text x='4' y='12' {FONT}>max {peak}</text>",
    ]
    for i, day in enumerate(days):
        value = counts[day]
        h = (height - 20) * value / peak
        x = 30 + i * (bar + gap)
        parts.append(
            f"<rect x='{x}' y='{height - h:.1f}' width='{bar}' height='{h:.1f}' fill='#0b4f8a'>"
            f"<title>{escape(day)}: {value}</title></rect>"
        )
        if len(days) <= 31 or i % 7 == 0:
            parts.append(
                f"<text transform='translate({x + bar - 3},{height + 4}) rotate(90)' {FONT}>{escape(day[5:])}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
