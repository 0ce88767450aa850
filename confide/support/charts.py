"""Server-rendered SVG line charts of questionnaire scores over time, readable without colour.

Everything that tells the chart apart is a shape, a pattern or a word, never a colour alone:
the severity bands are horizontal regions with a text label and a fill pattern of their own
(plain, dots, lines, hatching), separated by dashed lines; each series (a partner of a couple)
has its own marker shape and line dash and is named in a text legend. Strokes and text use
`currentColor`, so the chart follows the page's light or dark scheme. The chart carries a
<title> and a <desc> that say in words what it shows; the page puts a table of the same numbers
beside it.

No inline style and no script: only SVG presentation attributes, which the strict CSP allows.
Every value that comes from data (names, labels, dates) is escaped by `format_html`.
"""

from __future__ import annotations

import dataclasses
import datetime
import zoneinfo
from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from confide.support.instruments import Band, Questionnaire

WIDTH = 320
LEFT = 30  # room for the score labels
RIGHT = 10
TOP = 24  # room for the axis title
PLOT_HEIGHT = 170
PAD = 12  # the first and last points sit this far inside the plot
FONT = 12
LEGEND_ROW = 18

# Marker shapes and line dashes, one per series: told apart without colour.
SHAPES = ("circle", "square", "triangle", "diamond")
DASHES = ("", "6 4", "2 3", "8 3 2 3")
DASH_NAMES = ("solid line", "dashed line", "dotted line", "dash-dot line")
SHAPE_NAMES = ("circles", "squares", "triangles", "diamonds")

# Fill patterns of the bands, from the least to the most concerning.
PATTERNS = ("plain", "dots", "lines", "back-lines", "hatch")


@dataclasses.dataclass(frozen=True)
class Point:
    at: datetime.datetime
    score: int
    label: str = ""  # the band label, for the point's own title


@dataclasses.dataclass(frozen=True)
class Series:
    name: str
    points: tuple[Point, ...]


@dataclasses.dataclass(frozen=True)
class Geometry:
    """Where scores and moments land on the chart (SVG user units)."""

    max_score: int
    start: datetime.datetime | None
    end: datetime.datetime | None
    legend_rows: int = 0

    @property
    def left(self) -> float:
        return float(LEFT)

    @property
    def right(self) -> float:
        return float(WIDTH - RIGHT)

    @property
    def top(self) -> float:
        return float(TOP)

    @property
    def bottom(self) -> float:
        return float(TOP + PLOT_HEIGHT)

    @property
    def height(self) -> int:
        return TOP + PLOT_HEIGHT + 38 + LEGEND_ROW * self.legend_rows

    def y(self, score: float) -> float:
        """Score 0 on the bottom axis, the maximum at the top, linear between."""
        clamped = min(max(score, 0.0), float(self.max_score))
        return self.bottom - clamped / self.max_score * (self.bottom - self.top)

    def x(self, at: datetime.datetime) -> float:
        """The first answer PAD inside the left edge, the last PAD inside the right edge, time
        linear between; a single moment in the middle."""
        first, last = self.left + PAD, self.right - PAD
        if self.start is None or self.end is None or self.end <= self.start:
            return (first + last) / 2
        share = (at - self.start) / (self.end - self.start)
        return first + min(max(share, 0.0), 1.0) * (last - first)

    def band_edges(self, band: Band) -> tuple[float, float]:
        """(top y, bottom y) of a band's region. Scores are whole numbers, so a band reaches
        half a point past its ends (0-4 and 5-9 meet at 4.5), clamped to the scale."""
        low = max(band.low - 0.5, 0.0)
        high = min(band.high + 0.5, float(self.max_score))
        return self.y(high), self.y(low)


def _n(value: float) -> str:
    return f"{value:.1f}"


def day_label(at: datetime.datetime, time_zone: str) -> str:
    local = at.astimezone(zoneinfo.ZoneInfo(time_zone))
    return f"{local.day} {local:%b %Y}"


def _pattern_defs(chart_id: str) -> SafeString:
    stroke = 'stroke="currentColor" stroke-opacity="0.3" stroke-width="0.8"'
    bodies = {
        "dots": '<circle cx="4" cy="4" r="1" fill="currentColor" fill-opacity="0.4"/>',
        "lines": f'<path d="M0 8 L8 0" {stroke}/>',
        "back-lines": f'<path d="M0 0 L8 8" {stroke}/>',
        "hatch": f'<path d="M0 8 L8 0 M0 0 L8 8" {stroke}/>',
    }
    return format_html_join(
        "",
        '<pattern id="{}-{}" width="8" height="8" patternUnits="userSpaceOnUse">{}</pattern>',
        # The bodies are constants of this module, not data.
        ((chart_id, name, SafeString(body)) for name, body in bodies.items()),
    )


def _band_patterns(questionnaire: Questionnaire) -> list[str]:
    """The pattern of each band, denser the more a band calls for attention."""
    count = len(questionnaire.bands)
    ranks = list(range(count))
    if questionnaire.higher_is_better:
        ranks.reverse()
    if count == len(PATTERNS):
        return [PATTERNS[r] for r in ranks]
    # Fewer bands than patterns: spread them from plain to the densest.
    top = len(PATTERNS) - 1
    return [PATTERNS[round(r * top / max(count - 1, 1))] for r in ranks]


def _marker(shape: str, x: float, y: float, title: str) -> SafeString:
    attrs = 'fill="currentColor" stroke="currentColor" stroke-width="1"'
    if shape == "square":
        body = format_html(
            '<rect x="{}" y="{}" width="8" height="8" {}>', _n(x - 4), _n(y - 4), SafeString(attrs)
        )
        close = "</rect>"
    elif shape == "triangle":
        body = format_html(
            '<polygon points="{},{} {},{} {},{}" {}>',
            _n(x),
            _n(y - 5),
            _n(x + 5),
            _n(y + 4),
            _n(x - 5),
            _n(y + 4),
            SafeString(attrs),
        )
        close = "</polygon>"
    elif shape == "diamond":
        body = format_html(
            '<polygon points="{},{} {},{} {},{} {},{}" {}>',
            _n(x),
            _n(y - 5),
            _n(x + 5),
            _n(y),
            _n(x),
            _n(y + 5),
            _n(x - 5),
            _n(y),
            SafeString(attrs),
        )
        close = "</polygon>"
    else:
        body = format_html('<circle cx="{}" cy="{}" r="4" {}>', _n(x), _n(y), SafeString(attrs))
        close = "</circle>"
    return format_html("{}<title>{}</title>{}", body, title, SafeString(close))


def _shorten(name: str, limit: int = 22) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "\u2026"


def describe(questionnaire: Questionnaire, series: Sequence[Series], time_zone: str) -> str:
    """The chart in words, for its <desc> (screen readers) and anyone who cannot see it."""
    points = [p for s in series for p in s.points]
    if not points:
        return f"No {questionnaire.name} answers yet."
    first = min(p.at for p in points)
    last = max(p.at for p in points)
    parts = [
        f"{questionnaire.name} totals from {day_label(first, time_zone)} "
        f"to {day_label(last, time_zone)}, on a scale of 0 to {questionnaire.max_score}."
    ]
    for one in series:
        if not one.points:
            continue
        latest = one.points[-1]
        count = len(one.points)
        parts.append(
            f"{one.name}: {count} answer{'s' if count != 1 else ''}, the latest "
            f"{latest.score} ({latest.label or questionnaire.band_for(latest.score).label}) "
            f"on {day_label(latest.at, time_zone)}."
        )
    bands = ", ".join(f"{b.label} {b.range_text}" for b in questionnaire.bands)
    direction = "more satisfaction" if questionnaire.higher_is_better else "more symptoms"
    parts.append(f"Bands: {bands}. Higher scores mean {direction}.")
    return " ".join(parts)


def line_chart(
    *,
    questionnaire: Questionnaire,
    series: Sequence[Series],
    time_zone: str,
    chart_id: str,
) -> SafeString:
    """An SVG chart of each series' totals over time on the instrument's banded scale.

    `chart_id` must be unique on the page (it prefixes the ids of the title, the description
    and the fill patterns)."""
    points = [p for s in series for p in s.points]
    multi = len(series) > 1
    geometry = Geometry(
        max_score=questionnaire.max_score,
        start=min((p.at for p in points), default=None),
        end=max((p.at for p in points), default=None),
        legend_rows=len(series) if multi else 0,
    )
    parts: list[SafeString] = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" '
            'role="img" aria-labelledby="{}-title {}-desc" font-family="inherit" '
            'font-size="{}" fill="currentColor" class="measure-chart">',
            WIDTH,
            geometry.height,
            chart_id,
            chart_id,
            FONT,
        ),
        format_html(
            '<title id="{}-title">{} over time</title><desc id="{}-desc">{}</desc>',
            chart_id,
            questionnaire.title,
            chart_id,
            describe(questionnaire, series, time_zone),
        ),
        format_html("<defs>{}</defs>", _pattern_defs(chart_id)),
    ]
    parts.append(_bands(questionnaire, geometry, chart_id))
    parts.append(_axes(questionnaire, geometry, points, time_zone))
    for index, one in enumerate(series):
        parts.append(_series(one, index, geometry, time_zone))
    if multi:
        parts.append(_legend(series, geometry))
    parts.append(SafeString("</svg>"))
    return format_html_join("", "{}", ((part,) for part in parts))


def _bands(questionnaire: Questionnaire, geometry: Geometry, chart_id: str) -> SafeString:
    parts: list[SafeString] = []
    patterns = _band_patterns(questionnaire)
    for band, pattern in zip(questionnaire.bands, patterns, strict=True):
        top, bottom = geometry.band_edges(band)
        fill = "none" if pattern == "plain" else f"url(#{chart_id}-{pattern})"
        parts.append(
            format_html(
                '<g class="band" data-band="{}"><rect x="{}" y="{}" width="{}" height="{}" '
                'fill="{}" stroke="none"/>'
                '<text x="{}" y="{}" font-size="{}" fill-opacity="0.85">{} {}</text></g>',
                band.key,
                _n(geometry.left),
                _n(top),
                _n(geometry.right - geometry.left),
                _n(bottom - top),
                fill,
                _n(geometry.left + 4),
                _n((top + bottom) / 2 + 3.5),
                FONT - 1,
                band.chart_label,
                band.range_text,
            )
        )
        if band.low > 0:  # the dashed line between two bands
            parts.append(
                format_html(
                    '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="currentColor" '
                    'stroke-opacity="0.5" stroke-dasharray="4 3"/>',
                    _n(geometry.left),
                    _n(bottom),
                    _n(geometry.right),
                    _n(bottom),
                )
            )
    return format_html_join("", "{}", ((part,) for part in parts))


def _axes(
    questionnaire: Questionnaire,
    geometry: Geometry,
    points: Sequence[Point],
    time_zone: str,
) -> SafeString:
    parts: list[SafeString] = [
        format_html(
            '<text x="2" y="{}" font-weight="600">Score (0\u2013{})</text>',
            _n(geometry.top - 10),
            questionnaire.max_score,
        ),
        format_html(
            '<path d="M{} {} V{} H{}" fill="none" stroke="currentColor" stroke-width="1"/>',
            _n(geometry.left),
            _n(geometry.top),
            _n(geometry.bottom),
            _n(geometry.right),
        ),
    ]
    ticks = sorted({0, questionnaire.max_score, *(b.low for b in questionnaire.bands)})
    for value in ticks:
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end">{}</text>',
                _n(geometry.left - 4),
                _n(geometry.y(value) + 3.5),
                value,
            )
        )
    if points:
        first = min(p.at for p in points)
        last = max(p.at for p in points)
        labels = [(first, "start" if last > first else "middle")]
        if day_label(last, time_zone) != day_label(first, time_zone):
            labels.append((last, "end"))
        for at, anchor in labels:
            x = geometry.x(at)
            parts.append(
                format_html(
                    '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="currentColor"/>'
                    '<text x="{}" y="{}" text-anchor="{}">{}</text>',
                    _n(x),
                    _n(geometry.bottom),
                    _n(x),
                    _n(geometry.bottom + 4),
                    _n(x - PAD if anchor == "start" else x + PAD if anchor == "end" else x),
                    _n(geometry.bottom + 16),
                    anchor,
                    day_label(at, time_zone),
                )
            )
    parts.append(
        format_html(
            '<text x="{}" y="{}" text-anchor="middle" fill-opacity="0.85">Date completed</text>',
            _n((geometry.left + geometry.right) / 2),
            _n(geometry.bottom + 32),
        )
    )
    return format_html_join("", "{}", ((part,) for part in parts))


def _series(one: Series, index: int, geometry: Geometry, time_zone: str) -> SafeString:
    shape = SHAPES[index % len(SHAPES)]
    dash = DASHES[index % len(DASHES)]
    coords = [(geometry.x(p.at), geometry.y(p.score)) for p in one.points]
    parts: list[SafeString] = []
    if len(coords) > 1:
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="currentColor" stroke-width="2" '
                'stroke-linejoin="round"{}/>',
                " ".join(f"{_n(x)},{_n(y)}" for x, y in coords),
                format_html(' stroke-dasharray="{}"', dash) if dash else "",
            )
        )
    for point, (x, y) in zip(one.points, coords, strict=True):
        title = f"{one.name}, {day_label(point.at, time_zone)}: {point.score}"
        if point.label:
            title += f" ({point.label})"
        parts.append(_marker(shape, x, y, title))
    return format_html(
        '<g class="series" data-series="{}" data-shape="{}">{}</g>',
        index,
        shape,
        format_html_join("", "{}", ((part,) for part in parts)),
    )


def _legend(series: Sequence[Series], geometry: Geometry) -> SafeString:
    parts: list[SafeString] = []
    for index, one in enumerate(series):
        shape = SHAPES[index % len(SHAPES)]
        dash = DASHES[index % len(DASHES)]
        y = geometry.bottom + 38 + LEGEND_ROW * index + 4
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="currentColor" stroke-width="2"{}/>'
                "{}"
                '<text x="{}" y="{}">{} ({}, {})</text>',
                _n(geometry.left),
                _n(y),
                _n(geometry.left + 24),
                _n(y),
                format_html(' stroke-dasharray="{}"', dash) if dash else "",
                _marker(shape, geometry.left + 12, y, one.name),
                _n(geometry.left + 32),
                _n(y + 4),
                _shorten(one.name),
                SHAPE_NAMES[index % len(SHAPE_NAMES)],
                DASH_NAMES[index % len(DASH_NAMES)],
            )
        )
    return format_html(
        '<g class="legend">{}</g>', format_html_join("", "{}", ((p,) for p in parts))
    )
