"""Report plots with matplotlib's Agg backend: learning curves, confusion matrix, leaderboard, race, forecast and
the collection summary. Every plot names its axes and says which direction is better."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from archpick.datasets.series.timeline import parse_times
from archpick.report.schema import FamilyRace
from archpick.report.views import DatasetScore, ForecastView, TrialView, metric_words

FAMILY_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
STANDING_COLORS = {
    "beats": "#2e8b3a",
    "within noise": "#d99000",
    "loses": "#c0392b",
    "no baseline": "#7f7f7f",
    "failed": "#7f7f7f",
}
STANDING_TITLES = {
    "beats": "beats its baseline",
    "within noise": "within noise of its baseline",
    "loses": "does NOT beat its baseline",
}
BASELINE_COLOR = "#9aa3ad"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path, plot_area: tuple[float, float, float, float] | None = None) -> str:
    """Lay out and write the figure; `plot_area` (left, bottom, right, top, as figure fractions) keeps the rest
    of the figure for text placed outside the layout, and then the whole figure is kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout(rect=plot_area)
    fig.savefig(path, dpi=110, bbox_inches=None if plot_area else "tight")
    _plt().close(fig)
    return str(path)


def family_colors(families: list[str]) -> dict[str, str]:
    """One distinct colour per family, the same in every plot of a report (families in sorted order)."""
    return {fam: FAMILY_COLORS[i % len(FAMILY_COLORS)] for i, fam in enumerate(sorted(set(families)))}


def _direction(lower: bool) -> str:
    return "lower is better" if lower else "higher is better"


def learning_curves(history: dict[str, list[float | None]], path: Path) -> str | None:
    """Training and validation loss (and metric) of the winning trial, per epoch, one labelled panel each."""
    if not history:
        return None
    plt = _plt()
    metric = next(
        (k for k in history if k not in ("loss", "val_loss") and not k.startswith("val_") and k != "learning_rate"),
        None,
    )
    panels = [("loss", "val_loss")] + ([(metric, f"val_{metric}")] if metric else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.4))
    axes = np.atleast_1d(axes)
    for ax, (train_key, val_key) in zip(axes, panels):
        for key, style, label in ((train_key, "-", "training"), (val_key, "--", "validation")):
            if key in history:
                values = history[key]
                ax.plot(
                    range(1, len(values) + 1),
                    values,
                    style,
                    marker="o" if len(values) <= 30 else None,
                    ms=3,
                    label=label,
                )
        name = metric_words(train_key)
        lower = "accuracy" not in train_key and "auc" not in train_key
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_title(f"{name} per epoch ({_direction(lower)})", fontsize=10)
        epochs = max(len(history.get(train_key, [])), len(history.get(val_key, [])))
        if epochs <= 12:
            ax.set_xticks(range(1, epochs + 1))
            ax.set_xlim(0.5, epochs + 0.5)
        else:
            ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return _save(fig, path)


def confusion(matrix: list[list[int]], labels: list[str], path: Path) -> str:
    """Confusion matrix of the test split (rows: true class, columns: predicted)."""
    plt = _plt()
    mat = np.asarray(matrix)
    size = max(3.5, 0.45 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(mat, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    peak = mat.max() or 1
    for i in range(mat.shape[0]):
        for j in range(mat.shape[1]):
            ax.text(
                j,
                i,
                str(mat[i, j]),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if mat[i, j] > peak / 2 else "black",
            )
    ax.set_title("test confusion matrix (counts; the diagonal is correct)", fontsize=10)
    return _save(fig, path)


def leaderboard(trials: list[TrialView], metric: str, lower: bool, path: Path) -> str | None:
    """Every scored trial's validation score, best at the top, coloured by family; the exported trial starred,
    and beside each trial its score and why it ended.

    Args:
        trials: The trials, best first (views.ranked_trials).
        metric: The validation objective ("val_loss").
        lower: Whether lower scores are better.
        path: Where to write the PNG.
    """
    scored = [t for t in trials if t.score is not None]
    if not scored:
        return None
    plt = _plt()
    from matplotlib.lines import Line2D

    colors = family_colors([t.family for t in scored])
    fig, ax = plt.subplots(figsize=(9.5, 1.5 + 0.3 * len(scored)))
    ys = np.arange(len(scored))[::-1]  # best at the top
    scores = np.array([t.score for t in scored], dtype=float)
    for y, t in zip(ys, scored):
        star = t.role == "exported"
        ax.scatter(
            t.score,
            y,
            s=110 if star else 36,
            marker="*" if star else "o",
            color=colors[t.family],
            edgecolors="black" if t.role else "none",
            linewidths=0.8,
            zorder=3,
        )
        note = f"{t.score:.4g}, {t.ended}" + (f" [{t.role}]" if t.role else "")
        label = ax.text(1.02, y, note, transform=ax.get_yaxis_transform(), va="center", fontsize=7)
        label.set_in_layout(False)  # a column in the figure's right part, which the plot leaves free
    ax.set_yticks(ys, [t.trial for t in scored], fontsize=8)
    ax.set_ylim(-0.7, len(scored) - 0.3)
    span = float(scores.max() - scores.min())
    pad = 0.08 * span if span else 0.02 * (abs(float(scores.max())) or 1.0)
    high = scores.max() + pad
    if "accuracy" in metric and scores.max() <= 1.0:
        high = min(high, 1.0 + pad / 4)  # no room for accuracy above 1
    ax.set_xlim(scores.min() - pad, high)
    ax.set_xlabel(f"{metric_words(metric)} ({_direction(lower)})")
    ax.set_ylabel("trial (best first)")
    ax.grid(alpha=0.3, axis="x")
    handles = [Line2D([], [], marker="o", ls="", color=c, label=f) for f, c in colors.items()]
    handles.append(Line2D([], [], marker="*", ls="", color="white", markeredgecolor="black", ms=10, label="exported"))
    ax.legend(
        handles=handles,
        fontsize=8,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=len(handles),
        frameon=False,
        borderaxespad=0.2,
        handletextpad=0.1,
        columnspacing=1.0,
    )
    ax.set_title("every trial on the validation split, best at the top", fontsize=10, loc="left", pad=20)
    return _save(fig, path, plot_area=(0.0, 0.0, 0.58, 1.0))


def race(families: list[FamilyRace], metric: str, lower: bool, path: Path) -> str | None:
    """Family against family: each trial's validation score (dots) and each family's best (bar)."""
    if len(families) < 2:
        return None
    plt = _plt()
    from matplotlib.lines import Line2D

    colors = family_colors([f.family for f in families])
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for i, fam in enumerate(families):
        ax.scatter([i] * len(fam.scores), fam.scores, alpha=0.7, color=colors[fam.family])
        if fam.best_score is not None:
            ax.hlines(fam.best_score, i - 0.3, i + 0.3, colors="black")
    ax.set_xticks(range(len(families)), [f"{f.family}\n({f.role})" for f in families])
    ax.set_xlim(-0.6, len(families) - 0.4)
    ax.set_xlabel("family")
    ax.set_ylabel(f"{metric_words(metric)}\n({_direction(lower)})")
    ax.set_title("recommended family vs runner-up (validation)", fontsize=10)
    handles = [
        Line2D([], [], marker="o", ls="", color="grey", label="a trial"),
        Line2D([], [], color="black", label="family's best"),
    ]
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, path)


def forecast(view: ForecastView, path: Path) -> str:
    """The whole series with the model's forecast after its end (top), and the test period with one-step-ahead
    forecasts of the model and the seasonal naive baseline, and the last test window (bottom); dates on x."""
    plt = _plt()
    act, pred, nav = np.asarray(view.actual), np.asarray(view.predicted), np.asarray(view.naive)
    n, horizon = len(view.values), act.shape[1]
    x, dated = parse_times(view.times)
    if len(x) != n:
        x, dated = np.arange(n, dtype=float), False
    fx, fdated = parse_times(view.future_times)
    if view.future_values and (fdated != dated or len(fx) != len(view.future_values)):
        fx = np.arange(n, n + len(view.future_values), dtype=float) if not dated else fx[:0]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8.5, 6.4))
    start = n - len(act) - horizon + 1  # the series index of the first test target
    top.plot(x, view.values, color="grey", lw=1.2, label="data")
    top.axvspan(x[max(start, 0)], x[-1], color="#eef2f7", label="test period")
    if view.future_values and len(fx):
        top.plot(
            np.concatenate([x[-1:], fx]),
            [view.values[-1], *view.future_values],
            "o-",
            color="#c0392b",
            ms=3,
            lw=1.5,
            label=f"model: the next {len(view.future_values)} steps",
        )
        top.axvline(x[-1], color="black", lw=0.8, ls="--")
        top.set_title(f"{view.target}: the data and the model's forecast after its end", fontsize=10)
    else:
        top.set_title(f"{view.target}: the data", fontsize=10)
    idx = np.arange(start, start + len(act))
    tail = max(start - 2 * horizon, 0)
    bottom.plot(x[tail:], view.values[tail:], color="grey", lw=1.2, label="data")
    bottom.plot(x[idx], pred[:, 0], color="#1f77b4", label="model, 1 step ahead")
    bottom.plot(x[idx], nav[:, 0], ":", color="#ff7f0e", label="seasonal naive, 1 step ahead")
    last = np.arange(idx[-1], idx[-1] + horizon)
    bottom.plot(x[last], pred[-1], "o-", ms=3, color="#2ca02c", label=f"model, last test window ({horizon} steps)")
    bottom.axvline(x[start], color="black", lw=0.8, ls="--")
    bottom.set_title("test period: forecasts against the data", fontsize=10)
    for ax in (top, bottom):
        ax.set_xlabel(view.time_name)
        ax.set_ylabel(view.target)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        if dated:
            import matplotlib.dates as mdates

            locator = mdates.AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return _save(fig, path)


def summary(scores: list[DatasetScore], path: Path) -> str | None:
    """Each dataset's test score beside its best baseline, one small panel per dataset (metrics differ)."""
    shown = [s for s in scores if s.value is not None]
    if not shown:
        return None
    plt = _plt()
    cols = min(len(shown), 3)
    rows = (len(shown) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.3 * rows + 0.4), squeeze=False)
    for ax in axes.ravel()[len(shown) :]:
        ax.axis("off")
    for ax, s in zip(axes.ravel(), shown):
        bars = [("model", s.value, STANDING_COLORS.get(s.standing, "#1f77b4"))]
        if s.baseline is not None:
            bars.append(("baseline", s.baseline, BASELINE_COLOR))
        ys = np.arange(len(bars))[::-1]
        ax.barh(ys, [b[1] for b in bars], color=[b[2] for b in bars], height=0.6)
        peak = max([b[1] for b in bars] + ([s.interval[1]] if s.interval else [])) or 1.0
        if s.interval:  # the model's 95 % interval on the test split
            low, high = max(s.value - s.interval[0], 0.0), max(s.interval[1] - s.value, 0.0)  # rounding aside
            ax.errorbar(s.value, ys[0], xerr=[[low], [high]], fmt="none", ecolor="black", capsize=3, lw=1)
        for y, (_, value, _) in zip(ys, bars):
            right = s.interval[1] if s.interval and y == ys[0] else value
            ax.text(right + 0.02 * peak, y + 0.18, f"{value:.4g}", va="center", fontsize=8)
        ax.set_yticks(ys, [b[0] for b in bars], fontsize=8)
        ax.set_xlim(0, 1.05 if s.metric == "accuracy" and peak <= 1 else peak * 1.3)
        ax.set_xlabel(f"test {s.metric} ({_direction(s.lower_is_better)})", fontsize=8)
        title = s.dataset if len(s.dataset) <= 28 else s.dataset[:27] + "…"
        ax.set_title(
            f"{title}\n{STANDING_TITLES.get(s.standing, s.standing)}",
            fontsize=9,
            color=STANDING_COLORS.get(s.standing, "black"),
        )
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle(
        "each dataset's model against its best baseline (test split; whiskers: the model's 95% interval)", fontsize=10
    )
    return _save(fig, path)
