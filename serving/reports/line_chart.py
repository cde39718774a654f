"""Line charts as inline SVG, with their text alternative and their table (as charts.py).

For a rate through the year: each series is a line over the same weeks, a solid one for
this year and a dashed one (with square markers, so the two differ without colour) for last
year. A line's level is read against its axis, not its length, so the axis is cut to the
range of the figures, rounded out to whole steps, and says where it starts.
"""

import html
import math
from dataclasses import dataclass

from serving.reports.charts import CHAR, WIDTH

HEIGHT = 240
LEFT, BOTTOM, TOP = 56, 40, 12


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]  # one per point of the chart, None where not held
    dashed: bool = False


@dataclass(frozen=True)
class LineChart:
    key: str
    title: str
    note: str
    points: tuple[str, ...]  # the x labels (e.g. "Week 3, w/c 15 Sep"), in order
    series: tuple[Series, ...]
    columns: tuple[str, ...]  # the table's headings: points' heading, then each series'


def _pct(value: float) -> str:
    return f"{value:.1%}"


def line_figure(chart: LineChart) -> str:
    values = [v for s in chart.series for v in s.values if v is not None]
    if not values:
        return "<p><em>No data yet.</em></p>"
    return f"<figure>{_svg(chart, values)}{_table(chart)}</figure>"


def _range(values: list[float]) -> tuple[float, float, float]:
    """The axis' start, end and step: whole percentage steps around the figures."""
    low, high = min(values), max(values)
    span = max(high - low, 0.01)
    step = next(s for s in (0.005, 0.01, 0.02, 0.05, 0.1, 0.25) if s * 5 >= span)
    start = max(0.0, step * math.floor(low / step - 1e-9))
    end = min(1.0, step * math.ceil(high / step + 1e-9))
    return start, max(end, start + step), step


def _summary(chart: LineChart, start: float, end: float) -> str:
    parts = [
        f"Line chart of {len(chart.series)} series over {len(chart.points)} points, on an axis"
        f" from {_pct(start)} to {_pct(end)}."
    ]
    for series in chart.series:
        held = [(p, v) for p, v in zip(chart.points, series.values, strict=True) if v is not None]
        if held:
            parts.append(
                f"{series.name}: {_pct(held[0][1])} at {held[0][0]},"
                f" {_pct(held[-1][1])} at {held[-1][0]}."
            )
        else:
            parts.append(f"{series.name}: not held.")
    parts.append("Every figure is in the table after the chart.")
    return " ".join(parts)


def _svg(chart: LineChart, values: list[float]) -> str:
    start, end, step = _range(values)
    plot_w, plot_h = WIDTH - LEFT - 16, HEIGHT - TOP - BOTTOM
    count = len(chart.points)

    def x(i: int) -> float:
        return LEFT + (plot_w * (i + 0.5) / count)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - start) / (end - start))

    key = html.escape(chart.key)
    parts = [
        f'<svg role="img" aria-labelledby="{key}-title {key}-desc" width="{WIDTH}"'
        f' height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">',
        f'<title id="{key}-title">{html.escape(chart.title)}</title>',
        f'<desc id="{key}-desc">{html.escape(_summary(chart, start, end))}</desc>',
    ]
    for i in range(round((end - start) / step) + 1):
        v = start + i * step
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(v):.1f}"'
            f' y2="{y(v):.1f}"></line><text class="tick" x="{LEFT - 6}" y="{y(v) + 4:.1f}"'
            f' text-anchor="end">{_pct(v)}</text>'
        )
    # Label at most about 8 points along the axis, so the labels never overlap.
    every = max(1, math.ceil(count * 8 * CHAR / plot_w))
    for i, point in enumerate(chart.points):
        if i % every == 0:
            parts.append(
                f'<text class="tick" x="{x(i):.1f}" y="{TOP + plot_h + 18}"'
                f' text-anchor="middle">{html.escape(point.split(",")[0])}</text>'
            )
    for series in chart.series:
        dash = ' stroke-dasharray="6 4"' if series.dashed else ""
        held = [(i, v) for i, v in enumerate(series.values) if v is not None]
        path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in held)
        parts.append(
            f'<polyline class="{"trend-last" if series.dashed else "trend"}" fill="none"'
            f' points="{path}"{dash}></polyline>'
        )
        for i, v in held:
            marker = (
                f'<rect class="trend-last-point" x="{x(i) - 3.5:.1f}" y="{y(v) - 3.5:.1f}"'
                ' width="7" height="7"'
                if series.dashed
                else f'<circle class="trend-point" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5"'
            )
            tag = "rect" if series.dashed else "circle"
            parts.append(f'{marker} data-value="{v}"></{tag}>')
    legend_y = HEIGHT - 6
    for n, series in enumerate(chart.series):
        lx = LEFT + n * 260
        dash = ' stroke-dasharray="6 4"' if series.dashed else ""
        parts.append(
            f'<line class="{"trend-last" if series.dashed else "trend"}" x1="{lx}"'
            f' x2="{lx + 24}" y1="{legend_y - 4}" y2="{legend_y - 4}"{dash}></line>'
            f'<text x="{lx + 30}" y="{legend_y}">{html.escape(series.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(chart: LineChart) -> str:
    key = html.escape(chart.key)
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in chart.columns)
    body = "".join(
        f'<tr><th scope="row">{html.escape(point)}</th>'
        + "".join(
            f"<td>{'not held' if s.values[i] is None else _pct(s.values[i])}</td>"
            for s in chart.series
        )
        + "</tr>"
        for i, point in enumerate(chart.points)
    )
    return (
        f"<details><summary>Table: {html.escape(chart.title)}</summary>"
        f'<table id="{key}-table"><caption>{html.escape(chart.title)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></details>"
    )
