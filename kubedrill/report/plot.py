"""The report's plots as PNGs: the recovery timeline (each mark: fault, first NotReady,
replacement scheduled, Ready, data verified ... on one time axis, RTO shaded, the objective drawn
when there is one) and a scenario's trend over runs (RTO and RPO, the objective as a step line)."""

from __future__ import annotations

import io
import math
from typing import Sequence

from kubedrill.report.trends import Series, chart

# the stages the issue names, in the order they happen; anything else gets the next colour
_COLOURS = {"fault": "#d62728", "first NotReady": "#ff7f0e", "replacement scheduled": "#9467bd",
            "Ready": "#2ca02c", "data verified": "#1f77b4"}
_OTHER = ("#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    return Figure(figsize=(width, height), dpi=100)


def _png(fig) -> bytes:
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def timeline_png(recovery: dict, objective_s: float | None = None, title: str = "") -> bytes:
    """PNG bytes of one recovery (``Recovery.as_dict()``: description, rto_s, timeline)."""
    marks = list((recovery.get("timeline") or {}).get("marks") or [])
    rto = recovery.get("rto_s")
    fig = _figure(8.0, 1.6 + 0.32 * max(1, len(marks)))
    ax = fig.add_subplot(1, 1, 1)
    end = max([m["t_s"] for m in marks] + [rto or 0.0, objective_s or 0.0, 0.001])
    if rto is not None:
        ax.axvspan(0, rto, color="#2ca02c", alpha=0.08, label=f"RTO {rto:.2f}s")
    if objective_s is not None:
        ax.axvline(objective_s, color="#d62728", linestyle="--", linewidth=1,
                   label=f"objective {objective_s:g}s")
    other = iter(_OTHER * 4)
    for i, m in enumerate(marks):
        colour = _COLOURS.get(m["name"]) or next(other)
        y = len(marks) - i
        ax.plot([m["t_s"]], [y], marker="o", color=colour, markersize=8)
        ax.hlines(y, 0, m["t_s"], color=colour, alpha=0.35, linewidth=2)
        text = f"{m['name']}  +{m['t_s']:.2f}s"
        if m.get("detail"):
            detail = m["detail"] if len(m["detail"]) <= 60 else m["detail"][:57] + "..."
            text += f"  ({detail})"
        ax.annotate(text, (m["t_s"], y), xytext=(6, 4), textcoords="offset points", fontsize=8)
    ax.set_ylim(0.3, len(marks) + 0.9)
    ax.set_xlim(-0.02 * end, end * 1.6 + 0.5)
    ax.set_yticks([])
    ax.set_xlabel("seconds since the fault")
    ax.set_title(title or recovery.get("description", "recovery"), fontsize=9, loc="left")
    if rto is not None or objective_s is not None:
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return _png(fig)


# a run's point: its verdict's colour (a missed objective stands out), the others grey
_VERDICT_COLOURS = {"passed": "#2ca02c", "objective missed": "#d62728"}
_MAX_TICKS = 12


def _nan(values: Sequence[float | None]) -> list[float]:
    return [math.nan if v is None else v for v in values]


def trend_png(series: Series) -> bytes:
    """PNG bytes of one scenario over runs (``trends.chart``): one panel per quantity measured
    (RTO, RPO), the values run by run and the objective as a step line; a run that measured
    nothing leaves a gap."""
    panels = chart(series)
    fig = _figure(8.0, 0.6 + 2.2 * max(1, len(panels)))
    x = list(range(len(series.runs)))
    step = max(1, math.ceil(len(x) / _MAX_TICKS))
    for i, panel in enumerate(panels or [None], 1):
        ax = fig.add_subplot(len(panels) or 1, 1, i)
        if panel is None:
            ax.text(0.5, 0.5, "nothing measured in these runs", ha="center", va="center", transform=ax.transAxes)
        else:
            ax.plot(x, _nan(panel.values), color="#1f77b4", linewidth=1.2, label=f"{panel.title} ({panel.unit})")
            colours = [_VERDICT_COLOURS.get(v or "", "#7f7f7f") for v in series.verdicts]
            ax.scatter(x, _nan(panel.values), c=colours, s=18, zorder=3)
            if any(v is not None for v in panel.objective):
                # one step per run, across the run's whole slot
                ax.stairs(_nan(panel.objective), [i - 0.5 for i in range(len(x) + 1)], baseline=None,
                          color="#d62728", linestyle="--", linewidth=1, label=panel.objective_name)
            ax.set_ylabel(f"{panel.title} ({panel.unit})")
            top = max([v for v in panel.values + panel.objective if v is not None] + [0.0])
            ax.set_ylim(0, top * 1.2 or 1.0)
            ax.legend(loc="best", fontsize=8, frameon=False)
        ax.set_xlim(-0.5, max(0.5, len(x) - 0.5))
        ax.set_xticks(x[::step])
        ax.set_xticklabels(series.runs[::step], rotation=30, ha="right", fontsize=7)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.axes[0].set_title(f"{series.scenario}\nover {len(x)} run{'s' if len(x) != 1 else ''} "
                          "(points: green passed, red objective missed, grey another verdict)", fontsize=9, loc="left")
    return _png(fig)
