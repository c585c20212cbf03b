"""Hardware plan on this machine (CPU only here): what is chosen, why, and the --device override."""

from __future__ import annotations

import pytest

from archpick import hardware
from archpick.errors import OptionError


def test_cpu_plan_records_why() -> None:
    plan = hardware.plan("auto")
    assert plan.backend == "tensorflow" and plan.cpus >= 1
    if not plan.gpus:
        assert plan.device == "cpu" and plan.strategy == "default" and plan.precision == "float32"
        assert any("CPU" in r for r in plan.reasons)
    assert hardware.apply(hardware.plan("cpu")) is None
    assert set(plan.to_dict()) >= {"device", "strategy", "precision", "reasons", "gpus"}


def test_gpu_request_without_gpu_is_a_clear_error() -> None:
    if hardware.plan("auto").gpus:
        pytest.skip("this machine has a GPU")
    with pytest.raises(OptionError, match="no GPU"):
        hardware.plan("gpu")


H100 = {"name": "H100", "compute_capability": [9, 0]}
P100 = {"name": "P100", "compute_capability": [6, 0]}


def test_several_gpus_mirror_and_use_mixed_precision() -> None:
    plan = hardware.plan("auto", gpus=[H100, H100, H100, H100], backend="tensorflow")
    assert (plan.device, plan.strategy, plan.replicas, plan.precision) == ("gpu", "mirrored", 4, "mixed_float16")
    assert any("MirroredStrategy" in r for r in plan.reasons) and any("float32" in r for r in plan.reasons)


def test_old_gpu_keeps_float32_and_device_cpu_hides_gpus() -> None:
    old = hardware.plan("auto", gpus=[P100], backend="tensorflow")
    assert (old.device, old.strategy, old.precision) == ("gpu", "default", "float32")
    assert hardware.plan("cpu", gpus=[H100], backend="tensorflow").device == "cpu"
    assert hardware.plan("auto", "off", gpus=[H100], backend="tensorflow").precision == "float32"
    jax_plan = hardware.plan("auto", gpus=[H100, H100], backend="jax")
    assert jax_plan.strategy == "default"  # MirroredStrategy is TensorFlow's; JAX runs one device per trial
    assert jax_plan.precision == "mixed_float16" and any("--workers 2" in r for r in jax_plan.reasons)


def test_precision_option_reaches_the_plan(digits_small) -> None:
    from archpick import fit
    from archpick.errors import OptionError

    with pytest.raises(OptionError, match="precision must be"):
        fit(digits_small, "10s", precision="half")
    from archpick.options import FitOptions

    assert "--precision=float32" in FitOptions(mixed_precision=hardware.precision_mode("float32")).to_worker_argv()
    cpu = hardware.plan("auto", "on", gpus=[], backend="tensorflow")
    assert cpu.precision == "float32" and any("only pays on a GPU" in r for r in cpu.reasons)


def test_local_workers_share_the_cores(monkeypatch) -> None:
    assert hardware.thread_env(8, 2) == {"TF_NUM_INTRAOP_THREADS": "4", "OMP_NUM_THREADS": "4"}
    assert hardware.thread_env(2, 4)["TF_NUM_INTRAOP_THREADS"] == "1"  # never zero
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    plan = hardware.plan("cpu", backend="tensorflow", gpus=[])
    assert plan.threads == 1 and any("1 of" in r and "local workers" in r for r in plan.reasons)
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS")
    assert hardware.plan("cpu", backend="tensorflow", gpus=[]).threads == plan.cpus
