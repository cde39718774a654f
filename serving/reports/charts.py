"""Horizontal bar charts as inline SVG, each with its text alternative and its table.

A chart is an image to a sighted reader only: the `<svg>` has `role="img"` and is labelled
by its own `<title>` and `<desc>` (a one-sentence summary a screen reader reads out), and
every figure it draws is also in a table beside it (in a `<details>`, so the page stays
short), which is what a screen-reader user, a keyboard user or someone copying the figures
reads.

Bars always start at zero, because a bar's length is read as its value: a bar axis that
starts at 85% makes a week at 91% look half as good as one at 95%. The differences that
matter are shown instead by what is plotted and how far the axis goes: the axis ends at the
first round step above the largest bar (not at 100%), and weekly attendance is drawn as its
absence rate (serving/reports/figures.py), so weeks at 91% and 95% attendance are bars of 9%
and 5%, one nearly twice the other.
"""

import html
import math
from dataclasses import dataclass

WIDTH = 720
ROW = 26  # height of one bar's row, when its label is beside it
BAR = 18
CHAR = 7.5  # average width of a 13px character, for laying out labels and figures
# Labels longer than this go above their bar, in full, rather than being cut.
LABEL_BESIDE_MAX = 28
AXIS = 28  # room under the bars for the axis' tick labels


@dataclass(frozen=True)
class Bar:
    label: str  # in full: never cut
    value: float  # what the bar's length shows: a rate (fraction) or a count
    text: str  # the figure printed beside the bar
    cells: tuple[str, ...]  # the bar's row of the table, after its label


@dataclass(frozen=True)
class Chart:
    key: str  # unique in the page: the ids of the title, summary and table
    title: str
    note: str
    columns: tuple[str, ...]  # the table's headings, the label's first
    bars: tuple[Bar, ...]
    is_rate: bool
    reference: float | None = None  # a dashed line across the bars (e.g. all pupils)
    reference_label: str = ""


def axis(top: float, is_rate: bool, ticks: int = 5) -> tuple[float, float]:
    """The axis' end and step: the first round step at or above `top`, so that the largest
    bar nearly fills the plot and small differences are visible."""
    if top <= 0:
        return (1.0, 0.25) if is_rate else (4.0, 1.0)
    magnitude = 10 ** math.floor(math.log10(top / ticks))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude * ticks >= top)
    if not is_rate:
        step = max(1.0, round(step))
    end = step * math.ceil(top / step - 1e-9)
    return (min(end, 1.0), step) if is_rate else (end, step)


def figure(chart: Chart) -> str:
    """The chart's section body: the SVG with its title and summary, then its table."""
    if not chart.bars:
        return "<p><em>No data yet.</em></p>"
    return f"<figure>{_svg(chart)}{_table(chart)}</figure>"


def _fmt(value: float, is_rate: bool) -> str:
    if is_rate:
        return f"{value:.0%}" if round(value * 100, 6).is_integer() else f"{value:.1%}"
    return f"{value:,.0f}"


def _summary(chart: Chart, end: float) -> str:
    ranked = sorted(chart.bars, key=lambda b: b.value)
    what = "rates" if chart.is_rate else "counts"
    parts = [
        f"Bar chart of {len(chart.bars)} {what}, on an axis from 0 to {_fmt(end, chart.is_rate)}.",
        f"Highest: {ranked[-1].label}, {ranked[-1].text}.",
    ]
    if len(ranked) > 1:
        parts.append(f"Lowest: {ranked[0].label}, {ranked[0].text}.")
    if chart.reference is not None:
        parts.append(f"Dashed line: {chart.reference_label}, {_fmt(chart.reference, True)}.")
    parts.append("Every figure is in the table after the chart.")
    return " ".join(parts)


def _svg(chart: Chart) -> str:
    top = max([b.value for b in chart.bars] + [chart.reference or 0.0])
    end, step = axis(top, chart.is_rate)
    longest = max(len(b.label) for b in chart.bars)
    above = longest > LABEL_BESIDE_MAX
    # With the labels above the bars, the plot starts a little in, for the axis' first tick.
    label_w = 16 if above else math.ceil(longest * CHAR) + 12
    row = ROW + (18 if above else 0)
    text_w = math.ceil(max(len(b.text) for b in chart.bars) * CHAR) + 12
    plot = WIDTH - label_w - text_w - 8
    height = row * len(chart.bars) + AXIS
    key = html.escape(chart.key)
    parts = [
        f'<svg role="img" aria-labelledby="{key}-title {key}-desc" width="{WIDTH}"'
        f' height="{height}" viewBox="0 0 {WIDTH} {height}">',
        f'<title id="{key}-title">{html.escape(chart.title)}</title>',
        f'<desc id="{key}-desc">{html.escape(_summary(chart, end))}</desc>',
    ]
    bottom = row * len(chart.bars)
    ticks = round(end / step)
    for i in range(ticks + 1):
        x = label_w + plot * (i * step) / end
        parts.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{bottom + 4}"></line>'
            f'<text class="tick" x="{x:.1f}" y="{bottom + 20}" text-anchor="middle">'
            f"{_fmt(i * step, chart.is_rate)}</text>"
        )
    for i, bar in enumerate(chart.bars):
        y = i * row + (22 if above else 4)
        length = plot * min(bar.value, end) / end
        label_y = y - 6 if above else y + 14
        parts.append(
            f'<text x="0" y="{label_y}">{html.escape(bar.label)}</text>'
            f'<rect class="bar" x="{label_w}" y="{y}" width="{length:.1f}" height="{BAR}"'
            f' data-value="{bar.value}"></rect>'
            f'<text x="{label_w + length + 6:.1f}" y="{y + 14}">{html.escape(bar.text)}</text>'
        )
    if chart.reference is not None:
        x = label_w + plot * min(chart.reference, end) / end
        parts.append(
            f'<line class="line" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{bottom + 4}"'
            f' stroke-dasharray="4 3" data-value="{chart.reference}"></line>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(chart: Chart) -> str:
    key = html.escape(chart.key)
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in chart.columns)
    body = "".join(
        f'<tr><th scope="row">{html.escape(bar.label)}</th>'
        + "".join(f"<td>{html.escape(cell)}</td>" for cell in bar.cells)
        + "</tr>"
        for bar in chart.bars
    )
    return (
        f"<details><summary>Table: {html.escape(chart.title)}</summary>"
        f'<table id="{key}-table"><caption>{html.escape(chart.title)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></details>"
    )
