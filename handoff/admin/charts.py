"""Small SVG charts for the admin page: a confusion matrix and per-intent F1 bars.

Drawn as plain SVG text (no plotting library in the desk); every label is XML-escaped.
"""

from __future__ import annotations

import math
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


def stacked_bars(rows: dict[str, dict[str, int]], parts: list[tuple[str, str, str]], label: str) -> str:
    """One horizontal bar per row (a life domain, a team …), split into `parts`
    ((key, Dutch label, colour)), with the counts in a legend and on hover."""
    names = list(rows)
    peak = max((sum(row.values()) for row in rows.values()), default=0) or 1
    row_h, left, scale = 18, 190, 320
    width, height = left + scale + 60, 34 + row_h * max(1, len(names))
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
        f"aria-label='{escape(label, {chr(39): '&apos;'})}'>",
        f"<rect width='{width}' height='{height}' fill='#fff'/>",
    ]
    x = 4
    for _key, name, colour in parts:
        out.append(f"<rect x='{x}' y='4' width='10' height='10' fill='{colour}'/>")
        out.append(f"<text x='{x + 14}' y='13' {FONT}>{escape(name)}</text>")
        x += 24 + 7 * len(name)
    if not names:
        out.append(f"<text x='4' y='40' {FONT}>Geen gegevens in deze periode.</text>")
    for i, name in enumerate(names):
        y = 24 + i * row_h
        out.append(f"<text x='{left - 4}' y='{y + 12}' text-anchor='end' {FONT}>{escape(name)}</text>")
        x0 = float(left)
        for key, part, colour in parts:
            value = rows[name].get(key, 0)
            if not value:
                continue
            w = scale * value / peak
            out.append(
                f"<rect x='{x0:.1f}' y='{y + 2}' width='{w:.1f}' height='{row_h - 5}' fill='{colour}'>"
                f"<title>{escape(name)}, {escape(part)}: {value}</title></rect>"
            )
            x0 += w
        out.append(f"<text x='{x0 + 4:.1f}' y='{y + 12}' {FONT}>{sum(rows[name].values())}</text>")
    out.append("</svg>")
    return "".join(out)


_SCALE_MINUTES = (1.0, 60.0 * 24 * 60)
_TICKS = ((1.0, "1 min"), (60.0, "1 uur"), (60.0 * 24, "1 dag"), (60.0 * 24 * 7, "1 week"), (60.0 * 24 * 28, "4 weken"))


def _log_x(minutes: float, left: int, scale: int) -> float:
    low, high = (math.log10(v) for v in _SCALE_MINUTES)
    value = math.log10(min(max(minutes, _SCALE_MINUTES[0]), _SCALE_MINUTES[1]))
    return left + scale * (value - low) / (high - low)


def first_contact(rows: list[tuple[str, dict[str, float | int | None], float | None, str]], label: str) -> str:
    """Time to the first human contact per urgency on a log time axis: a bar to the median, a
    tick at p90, and the urgency's norm as a dashed red line with its label.
    rows: (Dutch label, {"count", "median", "p90", "within_share"}, norm in minutes or None, norm label)."""
    row_h, left, scale = 46, 120, 420
    width, height = left + scale + 40, 40 + row_h * len(rows)
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
        f"aria-label='{escape(label, {chr(39): '&apos;'})}'>",
        f"<rect width='{width}' height='{height}' fill='#fff'/>",
    ]
    for minutes, name in _TICKS:
        x = _log_x(minutes, left, scale)
        out.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='14' y2='{height - 10}' stroke='#ddd'/>")
        out.append(f"<text x='{x:.1f}' y='11' text-anchor='middle' {FONT}>{escape(name)}</text>")
    for i, (name, values, norm, norm_label) in enumerate(rows):
        y = 20 + i * row_h
        count = int(values.get("count") or 0)
        out.append(f"<text x='{left - 4}' y='{y + 14}' text-anchor='end' {FONT}>{escape(name)}</text>")
        out.append(f"<text x='{left - 4}' y='{y + 28}' text-anchor='end' {FONT}>n = {count}</text>")
        if count:
            median, p90 = float(values.get("median") or 0), float(values.get("p90") or 0)
            x_med, x_p90 = _log_x(median, left, scale), _log_x(p90, left, scale)
            out.append(
                f"<rect x='{left}' y='{y + 4}' width='{x_med - left:.1f}' height='14' fill='#0b4f8a'>"
                f"<title>{escape(name)}: mediaan {median:.0f} minuten</title></rect>"
            )
            out.append(
                f"<line x1='{x_p90:.1f}' x2='{x_p90:.1f}' y1='{y + 2}' y2='{y + 20}' stroke='#1a1a1a' stroke-width='2'>"
                f"<title>{escape(name)}: 90% binnen {p90:.0f} minuten</title></line>"
            )
        if norm is not None:
            x = _log_x(norm, left, scale)
            out.append(
                f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{y}' y2='{y + 24}' stroke='#8a1c1c' stroke-width='2' "
                f"stroke-dasharray='4 2'/>"
            )
        share = values.get("within_share")
        note = norm_label if share is None else f"{norm_label}: {float(share) * 100:.0f}% op tijd"
        out.append(f"<text x='{left}' y='{y + 34}' {FONT} fill='#8a1c1c'>{escape(note)}</text>")
    out.append("</svg>")
    return "".join(out)
