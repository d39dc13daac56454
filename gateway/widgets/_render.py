"""Drawing a checked :class:`~._spec.Widget` and its data as a PNG, in CloudWatch's look.

matplotlib's Agg backend through its object API only (a ``Figure`` with its own
``FigureCanvasAgg``; no pyplot, so no global figure registry and nothing shared between threads
but matplotlib's font cache, which it locks). matplotlib is imported on the first render, not at
gateway start-up (it costs about half a second and 45 MB of memory), and :func:`render_png` is blocking CPU work:
the gateway runs it in an executor.

The look follows CloudWatch's graphs: white canvas, the title at the top left, light horizontal
grid lines only, small grey tick labels, times as ``HH:MM`` (``MM/DD`` across days) in the
widget's time zone, series colours in CloudWatch's palette order (the position of the row in
``metrics``, so hiding a row does not recolour the others), the legend as small squares below or to
the right. No datapoints is not an error: the axes are drawn with "No data available." in them.

Sizes are exact: a ``width`` x ``height`` widget gives a PNG of exactly that many pixels. Below
about 120 x 80 pixels there is no room for text, and only the plot is drawn.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gateway.widgets._values import Row, Widget

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: CloudWatch's series colours, in the order it hands them out.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
ANNOTATION_COLOR = "#b41f1f"
VERTICAL_ANNOTATION_COLOR = "#545b64"
TEXT = "#16191f"
MUTED = "#687078"
GRID = "#e9ebed"
AXIS = "#aab7b8"
NO_DATA = "No data available."
DPI = 100
_PT = DPI / 72  # pixels per point
_SMALL = (120, 80)


@dataclass(frozen=True, slots=True)
class Series:
    """One row's data as fetched: ``timestamps`` (epoch seconds, ascending) and ``values``."""

    row: Row
    index: int
    label: str
    timestamps: Sequence[float]
    values: Sequence[float]

    @property
    def color(self) -> str:
        """The row's own colour, else the palette's for its position."""
        return self.row.color or PALETTE[self.index % len(PALETTE)]


def render_png(widget: Widget, series: Sequence[Series]) -> bytes:
    """The widget drawn as PNG bytes of exactly ``widget.width`` x ``widget.height`` pixels."""
    fig = draw(widget, series)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def draw(widget: Widget, series: Sequence[Series]) -> Figure:
    """The widget drawn on a new ``Figure`` with its own Agg canvas (``series`` in row order)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(widget.width / DPI, widget.height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    shown = [s for s in series if s.row.visible]
    roomy = widget.width >= _SMALL[0] and widget.height >= _SMALL[1]
    if widget.title and roomy:
        fig.text(8 / widget.width, 1 - 8 / widget.height, widget.title, ha="left", va="top", fontsize=10,
                 color=TEXT, fontweight="bold")
    top = (30 if widget.title else 12) if roomy else 0
    if widget.view == "singleValue":
        _single_value(fig, widget, shown, top, roomy)
    elif widget.view == "bar":
        _bar(fig, widget, shown, top, roomy)
    elif widget.view == "pie":
        _pie(fig, widget, shown, top, roomy)
    else:
        _time_series(fig, widget, shown, top, roomy)
    return fig


def compact(value: float, digits: int = 3) -> str:
    """``value`` as CloudWatch prints numbers: ``1.5k``, ``2.25M``, ``0.125``, ``42``."""
    if not math.isfinite(value):
        return str(value)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.{digits}g}{suffix}"
    return f"{value:.{digits}g}" if abs(value) >= 1 or value == 0 else f"{value:.{digits}g}"


def _legend_space(widget: Widget, labels: list[str], roomy: bool) -> tuple[int, int]:
    """Pixels the legend takes at the bottom and on the right."""
    if not roomy or widget.legend == "hidden" or not labels:
        return 0, 0
    widest = max(len(t) for t in labels) * 5.6 + 24
    if widget.legend == "right":
        return 0, int(min(widest, widget.width * 0.4))
    per_row = max(1, int((widget.width - 16) // widest))
    rows = math.ceil(len(labels) / per_row)
    return min(rows * 16 + 6, widget.height // 3), 0


def _plot_box(fig: Figure, widget: Widget, top: int, bottom: int, right: int, roomy: bool,
              left: int = 52, has_right_axis: bool = False) -> Axes:
    """Axes placed by pixel margins (or filling the figure when it is too small for text)."""
    w, h = widget.width, widget.height
    if roomy:
        r = right + (52 if has_right_axis else 14)
        b = bottom + 22
        if w - left - r > 10 and h - top - b > 10:
            return fig.add_axes((left / w, b / h, (w - left - r) / w, (h - top - b) / h))
    return fig.add_axes((0.0, 0.0, 1.0, 1.0))


def _style(ax: Axes, roomy: bool) -> None:
    ax.set_facecolor("white")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(AXIS)
    ax.grid(True, axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(colors=MUTED, labelsize=7.5, length=0, pad=4)
    if not roomy:
        ax.set_xticks([])
        ax.set_yticks([])


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, NO_DATA, transform=ax.transAxes, ha="center", va="center", fontsize=9, color=MUTED)


def _time_series(fig: Figure, widget: Widget, shown: list[Series], top: int, roomy: bool) -> None:
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    labels = [s.label for s in shown] + [a.label for a in widget.horizontal if a.label]
    bottom, right = _legend_space(widget, labels, roomy)
    uses_right = any(s.row.y_axis == "right" for s in shown)
    ax = _plot_box(fig, widget, top, bottom, right, roomy, has_right_axis=uses_right)
    _style(ax, roomy)
    axes = {"left": ax}
    if uses_right:
        twin = ax.twinx()
        _style(twin, roomy)
        twin.grid(False)
        axes["right"] = twin
    offset = widget.utc_offset.total_seconds()

    def days(t: float) -> float:
        return (t + offset) / 86400.0

    x0, x1 = days(widget.start.timestamp()), days(widget.end.timestamp())
    stacks: dict[str, dict[float, float]] = {}
    for s in shown:
        target = axes.get(s.row.y_axis, ax)
        xs = [days(t) for t in s.timestamps]
        ys = list(s.values)
        if widget.stacked and xs:
            base = _stack_base(stacks.setdefault(s.row.y_axis, {}), s)
            ys = [b + y for b, y in zip(base, ys, strict=True)]
            target.fill_between(xs, base, ys, color=s.color, alpha=0.35, linewidth=0)
        target.plot(xs, ys, color=s.color, linewidth=1.6, marker="o" if len(xs) == 1 else None, markersize=3,
                    solid_joinstyle="round")
    for side, a in axes.items():
        axis = widget.left if side == "left" else widget.right
        _y_limits(a, axis, [y for s in shown if s.row.y_axis == side for y in _plotted(s, widget, stacks)],
                  [h.value for h in widget.horizontal if h.y_axis == side]
                  + [h.end for h in widget.horizontal if h.y_axis == side and h.end is not None])
        a.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: compact(v)))
        if axis.label and roomy:
            a.set_ylabel(axis.label, fontsize=7.5, color=MUTED)
    ax.set_xlim(x0, x1)
    _time_axis(ax, widget, roomy)
    _annotate(axes, widget, days)
    if not any(s.values for s in shown):
        _no_data(ax)
    handles: list[Any] = [Patch(color=s.color) for s in shown]
    handles += [Patch(color=a.color or ANNOTATION_COLOR) for a in widget.horizontal if a.label]
    if bottom:
        per_row = max(1, int((widget.width - 16) // (max(len(t) for t in labels) * 5.6 + 24)))
        fig.legend(handles, labels, loc="lower left", bbox_to_anchor=(46 / widget.width, 2 / widget.height),
                   ncol=per_row, frameon=False, fontsize=7.5, handlelength=0.9, handleheight=0.9,
                   handletextpad=0.4, columnspacing=1.2, labelcolor=TEXT)
    elif right:
        fig.legend(handles, labels, loc="upper left",
                   bbox_to_anchor=(1 - right / widget.width, 1 - top / widget.height), ncol=1, frameon=False,
                   fontsize=7.5, handlelength=0.9, handleheight=0.9, handletextpad=0.4, labelcolor=TEXT)


def _stack_base(totals: dict[float, float], s: Series) -> list[float]:
    """The stacked total below ``s`` at each of its timestamps; adds ``s`` to ``totals``."""
    base = [totals.get(t, 0.0) for t in s.timestamps]
    for t, y in zip(s.timestamps, s.values, strict=True):
        totals[t] = totals.get(t, 0.0) + y
    return base


def _plotted(s: Series, widget: Widget, stacks: dict[str, dict[float, float]]) -> list[float]:
    if widget.stacked:
        return list(stacks.get(s.row.y_axis, {}).values()) + [0.0]
    return list(s.values)


def _y_limits(ax: Axes, axis: Any, values: list[float], marks: list[float]) -> None:
    seen = [v for v in values + marks if math.isfinite(v)]
    lo, hi = (min(seen), max(seen)) if seen else (0.0, 1.0)
    if lo == hi:
        lo, hi = (lo - 1, hi + 1) if lo else (0.0, 1.0)
    pad = (hi - lo) * 0.08
    lo = 0.0 if lo >= 0 and lo - pad < 0 else lo - pad
    hi = hi + pad
    if axis.min is not None:
        lo = axis.min
    if axis.max is not None:
        hi = axis.max
    if lo >= hi:
        hi = lo + 1
    ax.set_ylim(lo, hi)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))


#: Steps between time ticks, in seconds, finest first.
_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 2 * 86400, 7 * 86400, 14 * 86400,
          30 * 86400, 91 * 86400, 182 * 86400, 365 * 86400)


def time_ticks(x0: float, x1: float, most: int) -> list[tuple[float, str]]:
    """Ticks between ``x0`` and ``x1`` (days since 1970 in the widget's zone) and their labels.

    The step is the finest of :data:`_STEPS` giving at most ``most`` ticks, aligned to whole steps;
    labels are ``HH:MM``, or ``MM/DD`` for whole days and for ranges over three days.
    """
    span = (x1 - x0) * 86400
    step = next((s for s in _STEPS if span / s <= most), _STEPS[-1])
    first = math.ceil(x0 * 86400 / step) * step
    out = []
    t = first
    while t <= x1 * 86400:
        when = datetime.fromtimestamp(t, UTC)
        daily = step >= 86400 or span > 3 * 86400 or (span > 86400 and when.hour == 0 and when.minute == 0)
        out.append((t / 86400, when.strftime("%m/%d" if daily else "%H:%M")))
        t += step
    return out


def _time_axis(ax: Axes, widget: Widget, roomy: bool) -> None:
    if not roomy:
        return
    x0, x1 = ax.get_xlim()
    ticks = time_ticks(x0, x1, max(3, widget.width // 90))
    ax.set_xticks([t for t, _ in ticks], [label for _, label in ticks])


def _annotate(axes: dict[str, Axes], widget: Widget, days: Any) -> None:
    for h in widget.horizontal:
        ax = axes.get(h.y_axis, axes["left"])
        color = h.color or ANNOTATION_COLOR
        lo, hi = ax.get_ylim()
        if h.end is not None:
            ax.axhspan(min(h.value, h.end), max(h.value, h.end), color=color, alpha=0.15, linewidth=0)
            ax.axhline(h.end, color=color, linewidth=1.5)
        elif h.fill == "above":
            ax.axhspan(h.value, hi, color=color, alpha=0.15, linewidth=0)
        elif h.fill == "below":
            ax.axhspan(lo, h.value, color=color, alpha=0.15, linewidth=0)
        ax.axhline(h.value, color=color, linewidth=1.5)
        ax.set_ylim(lo, hi)
    ax = axes["left"]
    x0, x1 = ax.get_xlim()
    for v in widget.vertical:
        color = v.color or VERTICAL_ANNOTATION_COLOR
        x = days(v.value.timestamp())
        if v.end is not None:
            ax.axvspan(x, days(v.end.timestamp()), color=color, alpha=0.15, linewidth=0)
        elif v.fill == "before":
            ax.axvspan(x0, x, color=color, alpha=0.15, linewidth=0)
        elif v.fill == "after":
            ax.axvspan(x, x1, color=color, alpha=0.15, linewidth=0)
        ax.axvline(x, color=color, linewidth=1.5)
        if v.label and x0 <= x <= x1:
            ax.text(x, 0.98, f" {v.label}", transform=ax.get_xaxis_transform(), ha="left", va="top", fontsize=7,
                    color=color)
    ax.set_xlim(x0, x1)


def _latest(s: Series) -> float | None:
    return s.values[-1] if s.values else None


def _single_value(fig: Figure, widget: Widget, shown: list[Series], top: int, roomy: bool) -> None:
    """One cell per series: its label after a colour square, and its latest value, large."""
    w, h = widget.width, widget.height
    if not shown or all(_latest(s) is None for s in shown):
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0 - top / h))
        ax.set_axis_off()
        if roomy:
            _no_data(ax)
        return
    columns = max(1, min(len(shown), w // 150 if roomy else 1))
    rows = math.ceil(len(shown) / columns)
    cell_w, cell_h = w / columns, (h - top) / rows
    size_px = max(8.0, min(cell_h * 0.4, cell_w / 5.5, 48.0))
    for i, s in enumerate(shown):
        cx, cy = (i % columns) * cell_w, h - top - (i // columns) * cell_h
        value = _latest(s)
        fig.patches.append(_square(fig, (cx + 10) / w, (cy - 18) / h, 9 / w, 9 / h, s.color))
        if roomy:
            fig.text((cx + 24) / w, (cy - 14) / h, s.label, ha="left", va="center", fontsize=8, color=TEXT)
        fig.text((cx + 8) / w, (cy - 28 - size_px * 0.6) / h, "-" if value is None else compact(value, 4),
                 ha="left", va="center", fontsize=size_px / _PT, color=TEXT)


def _square(fig: Figure, x: float, y: float, dx: float, dy: float, color: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), dx, dy, transform=fig.transFigure, figure=fig, color=color, linewidth=0)


def _bar(fig: Figure, widget: Widget, shown: list[Series], top: int, roomy: bool) -> None:
    """Horizontal bars, one per series, of its latest value, labelled with the value."""
    labels = [s.label for s in shown]
    left = int(min(max((len(t) for t in labels), default=0) * 5.6 + 16, widget.width * 0.4)) if roomy else 0
    ax = _plot_box(fig, widget, top, 0, 30, roomy, left=max(left, 8))
    _style(ax, roomy)
    ax.grid(True, axis="x", color=GRID, linewidth=0.8)
    ax.grid(False, axis="y")
    values = [_latest(s) for s in shown]
    if not shown or all(v is None for v in values):
        ax.set_yticks([])
        ax.set_xticks([])
        _no_data(ax)
        return
    ys = list(range(len(shown)))[::-1]
    heights = [0.0 if v is None else v for v in values]
    ax.barh(ys, heights, color=[s.color for s in shown], height=0.6)
    ax.set_yticks(ys if roomy else [], labels if roomy else [])
    ax.tick_params(axis="y", labelsize=7.5, labelcolor=TEXT)
    finite = [v for v in heights if math.isfinite(v)] or [0.0]
    lo, hi = min(0.0, *finite), max(0.0, *finite)
    span = (hi - lo) or 1.0
    ax.set_xlim(lo - (span * 0.12 if lo < 0 else 0), hi + span * 0.15)
    ax.xaxis.set_major_formatter(_compact_formatter())
    if widget.left.min is not None or widget.left.max is not None:
        ax.set_xlim(widget.left.min if widget.left.min is not None else ax.get_xlim()[0],
                    widget.left.max if widget.left.max is not None else ax.get_xlim()[1])
    if roomy:
        for y, v in zip(ys, values, strict=True):
            if v is not None:
                ax.text(v, y, f" {compact(v, 4)}", va="center", ha="left", fontsize=7.5, color=TEXT)


def _pie(fig: Figure, widget: Widget, shown: list[Series], top: int, roomy: bool) -> None:
    """One slice per series with a positive latest value, its label and share beside the pie."""
    w, h = widget.width, widget.height
    slices = [(s, v) for s in shown if (v := _latest(s)) is not None and math.isfinite(v) and v > 0]
    legend_w = min(int(w * 0.45), 220) if roomy and slices else 0
    side = max(1.0, min(w - legend_w - 16, h - top - 16))
    ax = fig.add_axes(((8 + (w - legend_w - 16 - side) / 2) / w, 8 / h, side / w, side / h))
    ax.set_axis_off()
    if not slices:
        ax.set_position((0.0, 0.0, 1.0, 1.0 - top / h))
        if roomy:
            _no_data(ax)
        return
    total = sum(v for _, v in slices)
    ax.pie([v for _, v in slices], colors=[s.color for s, _ in slices], startangle=90, counterclock=False,
           wedgeprops={"linewidth": 1, "edgecolor": "white"})
    ax.set_aspect("equal")
    if not roomy:
        return
    x = (w - legend_w) / w
    for i, (s, v) in enumerate(slices):
        y = (h - top - 14 - i * 16) / h
        if y < 0:
            break
        fig.patches.append(_square(fig, x, y - 4 / h, 9 / w, 9 / h, s.color))
        fig.text(x + 14 / w, y, f"{s.label}  {compact(v, 4)} ({100 * v / total:.0f}%)", ha="left", va="center",
                 fontsize=7.5, color=TEXT)


def _compact_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: compact(v))
