"""archpick: look at a dataset, pick a Keras architecture family by a flowchart, tune it, report why.

Public API (importing this package never imports TensorFlow):

    from archpick import inspect, recommend, fit, load_run
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from archpick.version import __version__

__all__ = ["inspect", "recommend", "fit", "load_run", "__version__"]


def _data_options(**kwargs: Any):
    from archpick.datasets.base import DataOptions

    return DataOptions(**{k: v for k, v in kwargs.items() if v is not None})


def inspect(path: str | Path, **data_options: Any):
    """Profile a dataset (a folder, a file, or a folder of datasets) without TensorFlow.

    Args:
        path: The data.
        **data_options: kind, target, horizon, lookback, frames, size, sample_limit.

    Returns:
        archpick.profile.DatasetProfile.
    """
    import time

    from archpick.datasets import profile_path

    started = time.perf_counter()
    profile = profile_path(path, _data_options(**data_options))
    profile.facts["inspect_seconds"] = round(time.perf_counter() - started, 3)
    return profile


def recommend(path_or_profile: Any, **data_options: Any):
    """The flowchart's recommendation (family, runner-up, steps with evidence); no TensorFlow.

    Args:
        path_or_profile: A path, or a DatasetProfile from `inspect`.
        **data_options: As for `inspect` when a path is given.

    Returns:
        archpick.flowchart.Recommendation, or a list of them for a folder of datasets.
    """
    from archpick.flowchart import recommend as walk
    from archpick.profile import DatasetProfile

    if isinstance(path_or_profile, DatasetProfile):
        profile = path_or_profile
    else:
        profile = inspect(path_or_profile, **data_options)
    if profile.modality == "collection":
        return [walk(member) for member in profile.members]
    return walk(profile)


def fit(
    path: str | Path | None,
    time_budget: str | float | None = None,
    *,
    max_trials: int | None = None,
    max_epochs: int | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    families: str | None = None,
    overwrite: bool = False,
    resume: str | Path | None = None,
    device: str = "auto",
    precision: str = "auto",
    runs_root: str | Path = "runs",
    progress: Any = None,
    verbose: bool = False,
    chief_port: int | None = None,
    workers: int = 0,
    backbone: str | Path | None = None,
    backbone_weights: str | Path | None = None,
    **data_options: Any,
):
    """Inspect, recommend, race the families within a wall-clock budget, export and report.

    Args:
        path: A dataset or a folder of datasets (None with `resume`: the data the run recorded).
        time_budget: Wall-clock budget ("3m", "90s", seconds); default 5 minutes (8 for a folder of datasets).
        max_trials: Upper bound on trials per family.
        max_epochs: Upper bound on epochs per trial (default: the regime's; the time cap usually binds first).
        seed: Random seed (splits, initialisation, search).
        out: Run directory (default runs/<dataset>-<timestamp>).
        families: None (recommended + runner-up), "recommended", or e.g. "cnn,rnn".
        overwrite: Replace an existing run directory `out` (never one another process is writing).
        resume: An interrupted run directory to continue on `path` (a complete run is refused).
        device: "auto", "cpu" or "gpu".
        precision: "auto" (mixed_float16 on GPUs of compute capability >= 7.0), "mixed" or "float32".
        runs_root: Parent folder of default run directories.
        progress: Optional progress receiver (see archpick.search.Progress).
        verbose: Let TensorFlow's start-up logs through.
        chief_port: Serve the search to `archpick worker` processes on this port (family i on port + i).
        workers: Start this many local worker processes for parallel trials.
        backbone: A pretrained backbone for images and video: a keras.applications name (mobilenet_v2,
            efficientnet_b0, resnet50...; ImageNet weights from Keras's cache, never downloaded) or an archpick
            image run directory (its feature extractor).
        backbone_weights: The named backbone's weights file, instead of Keras's cache.
        **data_options: kind, target, horizon, lookback, frames, size.

    Returns:
        archpick.run.Run with `.report` (dict), `.model_path` and `.leaderboard` (DataFrame).
    """
    from archpick.backbone import check as check_backbone
    from archpick.options import FitOptions, parse_duration

    backbone = None if backbone is None else str(backbone)
    backbone_weights = None if backbone_weights is None else str(backbone_weights)
    check_backbone(backbone, backbone_weights)  # one line, before any data is read or TensorFlow imported
    budget = parse_duration(time_budget) if time_budget is not None else None
    from archpick.hardware import precision_mode

    opts = FitOptions(
        time_budget=budget,
        max_trials=max_trials,
        max_epochs=max_epochs,
        seed=seed,
        out=out,
        families=families,
        overwrite=overwrite,
        resume=resume,
        device=device,
        runs_root=runs_root,
        mixed_precision=precision_mode(precision),
        verbose=verbose,
        chief_port=chief_port,
        workers=workers,
        data=_data_options(**data_options),
        backbone=backbone,
        backbone_weights=backbone_weights,
    )
    path, recorded = _data_to_fit(path, resume)
    profile = inspect(path, **data_options)
    check_backbone(backbone, backbone_weights, profile.modality, path)
    if recorded is not None:
        recorded.check_same(profile.modality, profile.n_samples, path)
    with warnings.catch_warnings():
        # Keras's advice to people writing training loops ("input ran out of data", "shuffle is ignored for a
        # tf.data.Dataset", optimizer variables not restored into a model that only predicts) is noise here:
        # archpick builds those loops itself. verbose keeps them.
        if not verbose:
            warnings.filterwarnings("ignore", category=UserWarning, module=r"keras(\.|$)")
        if profile.modality == "collection":
            from archpick.collection import fit_collection

            return fit_collection(profile, opts, progress)
        from archpick.runner import fit_profile

        return fit_profile(profile, opts, progress)


def load_run(path: str | Path):
    """Open a run directory written by `fit`."""
    from archpick.run import load_run as _load

    return _load(path)


def _data_to_fit(path: str | Path | None, resume: str | Path | None) -> tuple[str | Path, Any]:
    """The data to fit and, with `resume`, the run's record of it (where it was; its modality and size).

    Raises:
        OptionError: Neither a path nor a run to resume.
        RunError: `resume` is not a resumable run (not a run, complete already, damaged state files).
    """
    if resume is not None:
        from archpick.run import check_resumable

        recorded = check_resumable(resume)
        return recorded.data_path(path), recorded
    if path is None:
        from archpick.errors import OptionError

        raise OptionError("give the data to fit: archpick fit PATH (or continue a run: --resume RUN_DIR)")
    return path, None
