"""Report plots with matplotlib's Agg backend: learning curves, confusion matrix, leaderboard, race, forecast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return str(path)


def learning_curves(history: dict[str, list[float]], path: Path) -> str | None:
    """Training and validation loss and metric of the winning trial, per epoch."""
    if not history:
        return None
    plt = _plt()
    metric = next((k for k in history if k not in ("loss", "val_loss") and not k.startswith("val_")
                   and k != "learning_rate"), None)
    panels = [("loss", "val_loss")] + ([(metric, f"val_{metric}")] if metric else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.4))
    axes = np.atleast_1d(axes)
    for ax, (train_key, val_key) in zip(axes, panels):
        for key, style in ((train_key, "-"), (val_key, "--")):
            if key in history:
                ax.plot(range(1, len(history[key]) + 1), history[key], style, label=key)
        ax.set_xlabel("epoch")
        ax.set_title(train_key)
        ax.legend()
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
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    peak = mat.max() or 1
    for i in range(mat.shape[0]):
        for j in range(mat.shape[1]):
            ax.text(j, i, str(mat[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if mat[i, j] > peak / 2 else "black")
    ax.set_title("test confusion matrix")
    return _save(fig, path)


def leaderboard(rows: list[dict[str, Any]], metric: str, path: Path) -> str | None:
    """Validation score of every trial in start order, coloured by family."""
    scored = [r for r in rows if r.get("score") is not None]
    if not scored:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.4))
    families = sorted({r["family"] for r in scored})
    colors = dict(zip(families, plt.get_cmap("tab10").colors))
    for i, r in enumerate(scored):
        ax.bar(i, r["score"], color=colors[r["family"]])
    for fam in families:
        ax.bar([], [], color=colors[fam], label=fam)
    ax.set_xticks(range(len(scored)), [r["trial"] for r in scored], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(metric)
    ax.set_title("trials (validation)")
    low = min(r["score"] for r in scored)
    if "accuracy" in metric:
        ax.set_ylim(max(0.0, low - 0.1), 1.0)
    ax.legend()
    return _save(fig, path)


def race(families: list[dict[str, Any]], metric: str, path: Path) -> str | None:
    """Family against family: each trial's validation score and the best, per family."""
    if len(families) < 2:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for i, fam in enumerate(families):
        scores = fam.get("scores") or []
        ax.scatter([i] * len(scores), scores, alpha=0.6)
        if fam.get("best_score") is not None:
            ax.hlines(fam["best_score"], i - 0.3, i + 0.3, colors="black")
    ax.set_xticks(range(len(families)), [f"{f['family']}\n({f['role']})" for f in families])
    ax.set_ylabel(metric)
    ax.set_title("recommended family vs runner-up")
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, path)


def forecast(series: list[float], actual: list[list[float]], predicted: list[list[float]],
             naive: list[list[float]], path: Path) -> str:
    """Actual versus predicted over the test period (first step of each window, plus the last window)."""
    plt = _plt()
    act, pred, nav = np.asarray(actual), np.asarray(predicted), np.asarray(naive)
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    n = len(series)
    start = n - len(act) - act.shape[1] + 1
    ax.plot(range(n), series, color="grey", label="series")
    idx = np.arange(start, start + len(act))
    ax.plot(idx, pred[:, 0], label="model, 1 step ahead")
    ax.plot(idx, nav[:, 0], ":", label="seasonal naive, 1 step ahead")
    last = np.arange(start + len(act) - 1, start + len(act) - 1 + act.shape[1])
    ax.plot(last, pred[-1], "o-", ms=3, label=f"model, last window ({act.shape[1]} steps)")
    ax.axvline(start, color="black", lw=0.8, ls="--")
    ax.set_title("forecast over the test period")
    ax.legend(fontsize=7)
    return _save(fig, path)
