"""`archpick worker`: run trials for a chief's keras-tuner oracle, family after family."""

from __future__ import annotations

import tempfile
from pathlib import Path

from archpick.distributed import parse_address, wait_for_chief
from archpick.options import FitOptions, search_budget
from archpick.runner import leg_setup, plan, plan_search, prepare


def run_worker(
    path: str | Path, chief: str, opts: FitOptions, tuner_id: str, run_dir: Path | None = None, progress=None
) -> int:
    """Join a distributed search: rebuild the chief's data and families, then run trials until each
    family's oracle stops.

    Args:
        path: The same dataset the chief fits (a shared or identical copy).
        chief: HOST:PORT of the chief (family i is served on PORT + i).
        opts: The chief's fit options (seed, time budget, families, data options) so splits and spec match.
        tuner_id: This worker's keras-tuner id (shown in the leaderboard).
        run_dir: The chief's run directory when shared (checkpoints land there); a temporary one otherwise.
        progress: Optional progress receiver.

    Returns:
        Number of families worked on.
    """
    import archpick
    from archpick import backend, hardware

    host, port = parse_address(chief)
    # The data first: a wrong PATH is reported at once, not after waiting for a chief.
    profile = archpick.inspect(
        path, **{k: v for k, v in vars(opts.data).items() if v is not None and k != "sample_limit"}
    )
    wait_for_chief(host, port)
    fit_plan = plan(profile, opts)  # selects the backend before Keras is imported
    from archpick import hypermodels
    from archpick.backbone import MODALITIES, check
    from archpick.search import work_family

    source = check(opts.backbone, opts.backbone_weights) if profile.modality in MODALITIES else None
    backend.start(opts.verbose)
    hw = hardware.plan(opts.device, opts.mixed_precision)
    strategy = hardware.apply(hw)
    prep = prepare(profile, opts, hw.replicas)
    legs, trial_cap = plan_search(search_budget(opts, prep.spec.input_spec.kind), fit_plan.legs, opts, prep)
    directory = (run_dir or Path(tempfile.mkdtemp(prefix="archpick-worker-"))) / "tuner"
    for index, leg in enumerate(legs):
        wait_for_chief(host, port + index)
        hm = hypermodels.make(profile.modality, leg.family, prep.spec, backbone=source)
        setup = leg_setup(
            hm,
            prep,
            opts,
            directory,
            leg.budget,
            trial_cap,
            progress=progress,
            tensorboard=False,
            distribution_strategy=strategy,
        )
        work_family(setup, host, port + index, tuner_id)
    return len(legs)
