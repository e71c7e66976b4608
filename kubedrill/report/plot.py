"""The recovery timeline as a PNG: each mark (fault, first NotReady, replacement scheduled, Ready,
data verified ...) on one time axis, RTO shaded, the objective drawn when there is one."""

from __future__ import annotations

import io

# the stages the issue names, in the order they happen; anything else gets the next colour
_COLOURS = {"fault": "#d62728", "first NotReady": "#ff7f0e", "replacement scheduled": "#9467bd",
            "Ready": "#2ca02c", "data verified": "#1f77b4"}
_OTHER = ("#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def timeline_png(recovery: dict, objective_s: float | None = None, title: str = "") -> bytes:
    """PNG bytes of one recovery (``Recovery.as_dict()``: description, rto_s, timeline)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    marks = list((recovery.get("timeline") or {}).get("marks") or [])
    rto = recovery.get("rto_s")
    fig = Figure(figsize=(8.0, 1.6 + 0.32 * max(1, len(marks))), dpi=100)
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
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
