"""The SVG score chart: points land where the axis says, bands sit at their scores, everything
is told apart without colour, and every label from data is escaped."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest

from confide.support import charts
from confide.support.instruments import CSI4, GAD7, PHQ9, Questionnaire

SVG = "{http://www.w3.org/2000/svg}"
UTC = datetime.UTC
START = datetime.datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def day(n: int) -> datetime.datetime:
    return START + datetime.timedelta(days=n)


def parse(markup: str) -> ET.Element:
    """The chart must be well-formed XML (it is inline SVG in an HTML page)."""
    return ET.fromstring(markup)  # noqa: S314 - our own output, parsed to check it


def one_series(*points: tuple[int, int], name: str = "Cam Client") -> list[charts.Series]:
    return [charts.Series(name, tuple(charts.Point(day(d), score) for d, score in points))]


def test_scores_scale_to_the_axis() -> None:
    g = charts.Geometry(max_score=27, start=day(0), end=day(28))
    assert g.y(0) == g.bottom and g.y(27) == g.top
    assert g.y(13.5) == pytest.approx((g.top + g.bottom) / 2)
    assert g.y(-3) == g.bottom and g.y(40) == g.top  # clamped, never off the chart
    assert g.x(day(0)) == g.left + charts.PAD
    assert g.x(day(28)) == g.right - charts.PAD
    assert g.x(day(7)) == pytest.approx(
        g.left + charts.PAD + (g.right - g.left - 2 * charts.PAD) / 4
    )
    single = charts.Geometry(max_score=21, start=day(3), end=day(3))
    assert single.x(day(3)) == pytest.approx((single.left + single.right) / 2)


def test_the_points_are_drawn_where_the_geometry_puts_them() -> None:
    series = one_series((0, 3), (14, 12), (28, 27))
    root = parse(
        charts.line_chart(questionnaire=PHQ9, series=series, time_zone="UTC", chart_id="c")
    )
    g = charts.Geometry(max_score=27, start=day(0), end=day(28))
    circles = root.findall(f".//{SVG}g[@class='series']/{SVG}circle")
    drawn = [(float(c.get("cx", "")), float(c.get("cy", ""))) for c in circles]
    expected = [(g.x(day(d)), g.y(s)) for d, s in ((0, 3), (14, 12), (28, 27))]
    assert len(drawn) == 3
    for (x, y), (want_x, want_y) in zip(drawn, expected, strict=True):
        assert abs(x - want_x) <= 0.06 and abs(y - want_y) <= 0.06
    line = root.find(f".//{SVG}g[@class='series']/{SVG}polyline")
    assert line is not None and len(line.get("points", "").split()) == 3
    # Each point says its date, score and band in words (hover and screen readers).
    titles = [c.findtext(f"{SVG}title") for c in circles]
    assert titles[1] == "Cam Client, 18 Jan 2027: 12"


@pytest.mark.parametrize(
    ("q", "key", "low", "high"),
    [
        (PHQ9, "minimal", 0.0, 4.5),
        (PHQ9, "moderate", 9.5, 14.5),
        (PHQ9, "severe", 19.5, 27.0),
        (GAD7, "severe", 14.5, 21.0),
        (CSI4, "dissatisfied", 0.0, 13.5),
        (CSI4, "satisfied", 13.5, 21.0),
    ],
)
def test_each_band_is_a_labelled_region_at_its_scores(
    q: Questionnaire, key: str, low: float, high: float
) -> None:
    root = parse(
        charts.line_chart(questionnaire=q, series=one_series((0, 5)), time_zone="UTC", chart_id="c")
    )
    g = charts.Geometry(max_score=q.max_score, start=day(0), end=day(0))
    band = root.find(f".//{SVG}g[@data-band='{key}']")
    assert band is not None
    rect = band.find(f"{SVG}rect")
    assert rect is not None
    top, height = float(rect.get("y", "")), float(rect.get("height", ""))
    assert top == pytest.approx(g.y(high), abs=0.06)
    assert top + height == pytest.approx(g.y(low), abs=0.11)
    label = band.findtext(f"{SVG}text") or ""
    published = next(b for b in q.bands if b.key == key)
    assert label == f"{published.chart_label} {published.low}\u2013{published.high}"


def test_bands_differ_by_pattern_not_only_colour() -> None:
    markup = charts.line_chart(
        questionnaire=PHQ9, series=one_series((0, 5)), time_zone="UTC", chart_id="c"
    )
    root = parse(markup)
    fills = [r.get("fill", "") for r in root.findall(f".//{SVG}g[@class='band']/{SVG}rect")]
    assert len(fills) == 5 and len(set(fills)) == 5
    assert fills[0] == "none" and fills[-1] == "url(#c-hatch)"
    patterns = {p.get("id") for p in root.findall(f".//{SVG}pattern")}
    assert {f.removeprefix("url(#").removesuffix(")") for f in fills[1:]} <= patterns
    # Boundaries between bands are dashed lines, one fewer than the bands.
    dashed = [line for line in root.findall(f"{SVG}line") if line.get("stroke-dasharray") == "4 3"]
    assert len(dashed) == 4
    # Satisfaction runs the other way: the dissatisfied band is the patterned one.
    csi = parse(
        charts.line_chart(
            questionnaire=CSI4, series=one_series((0, 5)), time_zone="UTC", chart_id="k"
        )
    )
    fill = {
        b.get("data-band"): b.find(f"{SVG}rect").get("fill")  # type: ignore[union-attr]
        for b in csi.findall(f".//{SVG}g[@class='band']")
    }
    assert fill == {"dissatisfied": "url(#k-hatch)", "satisfied": "none"}


def test_partners_have_their_own_shapes_dashes_and_a_text_legend() -> None:
    series = [
        charts.Series("Avery Partner", (charts.Point(day(0), 12), charts.Point(day(14), 15))),
        charts.Series("Blake Partner", (charts.Point(day(1), 17), charts.Point(day(15), 16))),
    ]
    root = parse(
        charts.line_chart(questionnaire=CSI4, series=series, time_zone="UTC", chart_id="c")
    )
    groups = root.findall(f".//{SVG}g[@class='series']")
    assert [g.get("data-shape") for g in groups] == ["circle", "square"]
    assert len(groups[0].findall(f"{SVG}circle")) == 2
    assert len(groups[1].findall(f"{SVG}rect")) == 2
    dashes = [g.find(f"{SVG}polyline").get("stroke-dasharray") for g in groups]  # type: ignore[union-attr]
    assert dashes == [None, "6 4"]
    legend = [t.text for t in root.findall(f".//{SVG}g[@class='legend']/{SVG}text")]
    assert legend == [
        "Avery Partner (circles, solid line)",
        "Blake Partner (squares, dashed line)",
    ]


def test_title_desc_axes_and_dates_are_in_words() -> None:
    markup = charts.line_chart(
        questionnaire=GAD7,
        series=one_series((0, 4), (27, 11)),
        time_zone="Pacific/Auckland",
        chart_id="gad",
    )
    root = parse(markup)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "gad-title gad-desc"
    assert root.findtext(f"{SVG}title") == "GAD-7 (anxiety) over time"
    desc = root.findtext(f"{SVG}desc") or ""
    assert "Cam Client: 2 answers, the latest 11 (Moderate) on 31 Jan 2027" in desc
    assert "Minimal 0\u20134" in desc and "Higher scores mean more symptoms" in desc
    texts = [t.text for t in root.iter(f"{SVG}text")]
    # Dates in the viewer's zone (09:00 UTC is 22:00 the same day in Auckland in summer).
    assert "4 Jan 2027" in texts and "31 Jan 2027" in texts
    assert "Score (0\u201321)" in texts and "Date completed" in texts
    assert {"0", "5", "10", "15", "21"} <= set(texts)


def test_labels_from_data_are_escaped_and_nothing_needs_style_or_script() -> None:
    name = '<script>alert("x")</script> & <b>Co</b>'
    series = [
        charts.Series(name, (charts.Point(day(0), 3, label="<i>band</i>"),)),
        charts.Series("Other", (charts.Point(day(1), 4),)),
    ]
    markup = charts.line_chart(questionnaire=PHQ9, series=series, time_zone="UTC", chart_id="x")
    assert "<script" not in markup and "<b>" not in markup and "<i>" not in markup
    assert "&lt;script&gt;" in markup and "&amp; &lt;b&gt;Co&lt;/b&gt;" in markup
    assert "style=" not in markup and "javascript:" not in markup
    root = parse(markup)  # still well-formed
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert '<script>alert("x")</script> & <b>Co</b>, 4 Jan 2027: 3 (<i>band</i>)' in titles
    desc = root.findtext(f"{SVG}desc") or ""
    assert desc.startswith("PHQ-9 totals from 4 Jan 2027")


def test_an_empty_chart_still_says_what_it_is() -> None:
    root = parse(charts.line_chart(questionnaire=PHQ9, series=[], time_zone="UTC", chart_id="e"))
    assert root.findtext(f"{SVG}desc") == "No PHQ-9 answers yet."
    assert len(root.findall(f".//{SVG}g[@class='band']")) == 5
