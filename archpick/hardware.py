"""Devices, distribution strategy, mixed precision and thread settings, with the reasons recorded."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

MIXED_PRECISION_MIN_CC = (7, 0)
PRECISIONS = {"auto": "auto", "mixed": "on", "float32": "off"}  # --precision -> plan()'s mixed_precision


def precision_mode(precision: str) -> str:
    """The `--precision` word (auto, mixed, float32) as plan()'s mixed_precision ("auto", "on", "off")."""
    if precision not in PRECISIONS:
        from archpick.errors import OptionError

        raise OptionError(f"precision must be auto, mixed or float32, not {precision!r}")
    return PRECISIONS[precision]


@dataclass
class HardwarePlan:
    """What archpick trains on and why.

    Attributes:
        backend: Keras backend name.
        cpus: Logical CPU cores.
        threads: Threads each op may use (all cores, or a local worker's share).
        gpus: One dict per visible GPU (name, compute capability).
        device: "cpu" or "gpu".
        strategy: "default" (one device) or "mirrored" (several GPUs, batch scaled per replica).
        replicas: Devices a batch is split across.
        precision: "float32" or "mixed_float16".
        reasons: Why each choice was made.
    """

    backend: str = "tensorflow"
    cpus: int = 1
    threads: int = 1
    gpus: list[dict[str, Any]] = field(default_factory=list)
    device: str = "cpu"
    strategy: str = "default"
    replicas: int = 1
    precision: str = "float32"
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS")  # read by TensorFlow / OpenMP at start-up


def thread_env(cpus: int, processes: int) -> dict[str, str]:
    """Environment that gives each of `processes` CPU-training processes its share of the cores.

    Each TensorFlow process otherwise runs every op on all cores, so N local workers on a CPU machine
    would oversubscribe it N times over.
    """
    share = max(1, cpus // max(processes, 1))
    return {name: str(share) for name in THREAD_VARIABLES}


def threads_in_use(cpus: int) -> int:
    """Intra-op threads this process runs with: TF_NUM_INTRAOP_THREADS when set, else every core."""
    try:
        return max(1, int(os.environ.get("TF_NUM_INTRAOP_THREADS", "")))
    except ValueError:
        return cpus


def quiet_tensorflow(verbose: bool) -> None:
    """Hide TensorFlow's and Keras's log noise unless verbose (call before TensorFlow is imported)."""
    if verbose:
        return
    import logging
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("AUTOGRAPH_VERBOSITY", "0")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"keras(\..*)?")
    warnings.filterwarnings("ignore", module=r"keras_tuner(\..*)?")
    warnings.filterwarnings("ignore", module=r"tensorflow(\..*)?")
    warnings.filterwarnings("ignore", module=r"sklearn(\..*)?")  # the GP oracle's convergence notes


def import_tensorflow(verbose: bool = False):
    """Import TensorFlow; unless verbose, its start-up lines on file descriptor 2 (CUDA stubs, CPU
    feature notes, absl warnings, which TF_CPP_MIN_LOG_LEVEL does not silence) are dropped."""
    import sys

    if verbose or "tensorflow" in sys.modules:
        import tensorflow as tf

        return tf
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401 - keras' own start-up also logs through TensorFlow
            import tensorflow as tf

            tf.constant(0)  # first op initialises the runtime, which logs too
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tf


def _gpus_tensorflow() -> list[dict[str, Any]]:
    import tensorflow as tf

    out = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu) or {}
        out.append(
            {
                "name": details.get("device_name", gpu.name),
                "compute_capability": list(details.get("compute_capability", ()) or ()),
            }
        )
    return out


def _gpus_jax() -> list[dict[str, Any]]:
    import jax

    out = []
    for dev in jax.devices():
        if dev.platform == "gpu":
            cc = getattr(dev, "compute_capability", "") or ""
            out.append(
                {
                    "name": getattr(dev, "device_kind", str(dev)),
                    "compute_capability": [int(p) for p in str(cc).split(".") if p.isdigit()],
                }
            )
    return out


def plan(
    device: str = "auto",
    mixed_precision: str = "auto",
    gpus: list[dict[str, Any]] | None = None,
    backend: str | None = None,
) -> HardwarePlan:
    """Decide devices, strategy and precision for this machine.

    Args:
        device: "auto", "cpu" or "gpu".
        mixed_precision: "auto", "on" or "off".
        gpus: The GPUs to plan for (default: detected through the backend).
        backend: The Keras backend (default: the active one).

    Returns:
        The HardwarePlan (not yet applied).
    """
    if backend is None:
        import keras

        backend = keras.backend.backend()
    cpus = os.cpu_count() or 1
    threads = threads_in_use(cpus) if backend == "tensorflow" else cpus  # XLA's CPU pool ignores the variable
    result = HardwarePlan(backend=backend, cpus=cpus, threads=threads)
    if gpus is None:
        try:
            gpus = _gpus_jax() if backend == "jax" else _gpus_tensorflow() if backend == "tensorflow" else []
        except Exception:  # noqa: BLE001 - a broken driver means no usable GPU
            gpus = []
    result.gpus = gpus
    if device == "gpu" and not gpus:
        from archpick.errors import OptionError

        raise OptionError(f"--device gpu, but the {backend} backend sees no GPU; use --device auto or cpu")
    if device == "cpu" or not gpus:
        result.device = "cpu"
        result.reasons.append(
            "no GPU visible; training on the CPU" if not gpus and device != "cpu" else "--device cpu: GPUs hidden"
        )
        result.reasons.append(
            f"{result.cpus} CPU cores; the {backend} backend uses all of them for each op"
            if result.threads >= result.cpus
            else f"{result.threads} of {result.cpus} CPU cores per op (this process's share as one "
            "of several local workers)"
        )
        if mixed_precision == "on":
            result.reasons.append("float32: mixed precision was asked for, but it only pays on a GPU")
        return result
    result.device = "gpu"
    if len(gpus) > 1 and backend == "tensorflow":
        result.strategy, result.replicas = "mirrored", len(gpus)
        result.reasons.append(
            f"{len(gpus)} GPUs: MirroredStrategy, batch size scaled by {len(gpus)} so each replica keeps its "
            "batch; one trial uses every GPU, which finishes trials soonest under a wall-clock budget"
        )
    elif len(gpus) > 1:
        result.reasons.append(
            f"{len(gpus)} GPUs on the {backend} backend: a trial runs on the first (MirroredStrategy is "
            f"TensorFlow's); use --workers {len(gpus)} to run one trial per GPU"
        )
    else:
        result.reasons.append(f"one GPU ({gpus[0]['name']}): all training runs on it")
    ccs = [tuple(g["compute_capability"]) for g in gpus if g["compute_capability"]]
    capable = bool(ccs) and all(cc >= MIXED_PRECISION_MIN_CC for cc in ccs)
    if mixed_precision == "on" or (mixed_precision == "auto" and capable):
        result.precision = "mixed_float16"
        result.reasons.append("mixed_float16: compute capability >= 7.0 has tensor cores; output layer in float32")
    else:
        result.reasons.append("float32: GPU compute capability below 7.0 or mixed precision turned off")
    return result


def apply(hw: HardwarePlan) -> Any:
    """Apply a plan: hide GPUs for CPU runs, set the precision policy, return a distribution strategy or None."""
    import keras

    if hw.backend == "tensorflow":
        import tensorflow as tf

        if hw.device == "cpu":
            try:
                tf.config.set_visible_devices([], "GPU")
            except RuntimeError:
                pass
    keras.mixed_precision.set_global_policy(hw.precision)
    if hw.strategy == "mirrored":
        import tensorflow as tf

        return tf.distribute.MirroredStrategy()
    return None
