"""Where a pretrained backbone comes from: a `keras.applications` name, a weights file, or an archpick run.

`archpick fit --backbone NAME` takes a `keras.applications` network (mobilenet_v2, efficientnet_b0, resnet50 and
their siblings) with its ImageNet weights read from Keras's own cache (`$KERAS_HOME/models`, by default
`~/.keras/models`, under the file name `keras.applications` itself downloads for `include_top=False`), or from
`--backbone-weights FILE`. `--backbone RUN_DIR` takes the feature extractor (everything before the head) of an
earlier archpick image run. archpick never downloads: when the weights are absent the user gets one line naming
the file and the folder it goes in.

Standard library only (no TensorFlow), so that `--help` and the option checks stay fast; the networks are built
in archpick/hypermodels/transfer.py.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from archpick.errors import DependencyError, OptionError, RunError
from archpick.modelmeta import load_meta

MODALITIES = ("image", "video")  # the data a backbone applies to
RECORD_FILE = "backbone.json"  # RUN_DIR/backbone.json: the options a resumed run takes its backbone from
MOBILENET_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
MOBILENET_ROWS = (224, 192, 160, 128, 96)  # the resolutions keras.applications has weights for; 224 first
ORIGIN_CACHE = "Keras cache"
ORIGIN_FILE = "--backbone-weights"
ORIGIN_RUN = "archpick run"


@dataclass(frozen=True)
class BackboneSource:
    """A resolved backbone: what to build and where its weights are.

    Attributes:
        kind: "application" (a keras.applications network) or "run" (an archpick image run's feature extractor).
        name: The backbone's name ("mobilenet_v2", "mobilenet_v2_0.35", "resnet50"...) or the run directory's name.
        path: The weights file (application) or the run directory (run), absolute.
        origin: Where the weights come from: "Keras cache", "--backbone-weights" or "archpick run".
        builder: The keras.applications function ("MobileNetV2"); "" for a run.
        preprocess: The applications' preprocess_input mode ("tf", "caffe", or "none" when the network
            normalises its input itself, as EfficientNet does); "" for a run.
        alpha: MobileNetV2's width multiplier, or None.
        dataset: The run's dataset (run only).
        variant: The run's exported model (run only).
        channels: Channels the backbone takes (3 for applications; the run's image channels).
        side: The run's image side (the extractor resizes to it inside); 0 for applications.
    """

    kind: str
    name: str
    path: str
    origin: str
    builder: str = ""
    preprocess: str = ""
    alpha: float | None = None
    dataset: str = ""
    variant: str = ""
    channels: int = 3
    side: int = 0

    @property
    def label(self) -> str:
        """The backbone and where its weights came from, in a few words."""
        if self.kind == "run":
            return f"feature extractor of archpick run {self.name} ({self.variant} on {self.dataset})"
        if self.origin == ORIGIN_CACHE:
            return f"{self.name} with ImageNet weights from Keras's cache ({self.path})"
        return f"{self.name} with the weights of --backbone-weights {self.path}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (the report's "backbone" section starts from it)."""
        return asdict(self)


@dataclass(frozen=True)
class Application:
    """One keras.applications network archpick can use.

    Attributes:
        name: archpick's name for it.
        builder: The keras.applications function.
        preprocess: Its preprocess_input mode ("tf", "caffe" or "none").
        files: The include_top=False weights files keras.applications uses, preferred first.
        alpha: MobileNetV2's width multiplier, or None.
    """

    name: str
    builder: str
    preprocess: str
    files: tuple[str, ...]
    alpha: float | None = None


def application(name: str) -> Application | None:
    """The keras.applications network a --backbone name means (case, "-" and "_" are forgiven), or None.

    Examples: mobilenet_v2, MobileNetV2, mobilenet_v2_0.35 (width 0.35), efficientnet_b0, EfficientNetB3,
    resnet50, resnet101.
    """
    key = name.strip().lower().replace("-", "_")
    match = re.fullmatch(r"mobilenet_?v2(?:_(\d+(?:\.\d+)?))?", key)
    if match:
        alpha = float(match.group(1) or 1.0)
        if alpha not in MOBILENET_ALPHAS:
            raise OptionError(
                f"MobileNetV2 has ImageNet weights for widths {', '.join(map(str, MOBILENET_ALPHAS))}"
                f", not {match.group(1)}; use e.g. --backbone mobilenet_v2_0.35"
            )
        files = tuple(
            f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alpha}_{rows}_no_top.h5" for rows in MOBILENET_ROWS
        )
        suffix = "" if alpha == 1.0 else f"_{alpha:g}"
        return Application(f"mobilenet_v2{suffix}", "MobileNetV2", "tf", files, alpha)
    match = re.fullmatch(r"efficientnet_?b([0-7])", key)
    if match:
        b = match.group(1)
        return Application(f"efficientnet_b{b}", f"EfficientNetB{b}", "none", (f"efficientnetb{b}_notop.h5",))
    match = re.fullmatch(r"resnet_?(50|101|152)", key)
    if match:
        depth = match.group(1)
        return Application(
            f"resnet{depth}", f"ResNet{depth}", "caffe", (f"resnet{depth}_weights_tf_dim_ordering_tf_kernels_notop.h5",)
        )
    return None


def keras_cache_dirs() -> list[Path]:
    """Where keras.applications keeps downloaded weights: `$KERAS_HOME/models`, else `~/.keras/models` (or
    `/tmp/.keras/models` when the home folder is not writable, as Keras does); the first is where to put them."""
    home = os.environ.get("KERAS_HOME")
    if home:
        return [Path(home).expanduser() / "models"]
    base = Path("~").expanduser()
    dirs = [base / ".keras" / "models"]
    if not os.access(base, os.W_OK):
        dirs.insert(0, Path("/tmp/.keras/models"))
    return dirs


def resolve(backbone: str, weights: str | Path | None = None) -> BackboneSource:
    """Resolve --backbone (a name or a run directory) and --backbone-weights into a BackboneSource.

    Args:
        backbone: A keras.applications name (see `application`) or an archpick image run directory.
        weights: A weights file for a named backbone (keras.applications' .h5, or a Keras .weights.h5).

    Returns:
        The BackboneSource.

    Raises:
        OptionError: An unknown name, a missing --backbone-weights file, weights given with a run directory.
        DependencyError: A named backbone whose weights are in no Keras cache (the line names file and folder).
        RunError: A run directory that is not a complete archpick image run.
    """
    app = application(backbone)
    if app is None:
        path = Path(backbone).expanduser()
        if not path.is_dir():
            raise OptionError(
                f"--backbone {backbone!r} is neither a backbone name (mobilenet_v2, efficientnet_b0, "
                "resnet50...) nor an archpick run directory"
            )
        if weights is not None:
            raise OptionError(
                "--backbone-weights goes with a backbone name (e.g. mobilenet_v2); a run directory "
                "brings its own weights",
                weights,
            )
        return run_source(path)
    if weights is not None:
        file = Path(weights).expanduser()
        if not file.is_file():
            raise OptionError(
                f"no such weights file for --backbone-weights; give the path of the {app.name} "
                f"weights (e.g. {app.files[0]})",
                file,
            )
        return _app_source(app, file.resolve(), ORIGIN_FILE)
    dirs = keras_cache_dirs()
    for folder in dirs:
        for name in app.files:
            if (folder / name).is_file():
                return _app_source(app, (folder / name).resolve(), ORIGIN_CACHE)
    raise DependencyError(
        f"the ImageNet weights of {app.name} are not in Keras's cache and archpick never "
        f"downloads: put {app.files[0]} in {dirs[0]}/ "
        "(or give --backbone-weights FILE)"
    )


def _app_source(app: Application, path: Path, origin: str) -> BackboneSource:
    return BackboneSource(
        "application", app.name, str(path), origin, builder=app.builder, preprocess=app.preprocess, alpha=app.alpha
    )


def run_source(path: Path) -> BackboneSource:
    """The feature extractor of a complete archpick image run at `path` (RunError otherwise)."""
    from archpick.run import load_run

    run = load_run(path)
    if not run.complete:
        raise RunError(
            f"is not a complete archpick run (status: {run.status}); --backbone needs a finished image run", run.path
        )
    model_dir = run.path / "model"
    meta, _ = load_meta(model_dir, "--backbone needs a finished archpick image run")
    if not (model_dir / "model.keras").is_file():
        raise RunError("has no model/model.keras to take a feature extractor from", run.path)
    spec = meta.input_spec
    if spec.kind != "image":
        raise RunError(f"is a {spec.kind} run; --backbone RUN_DIR takes an archpick image run", run.path)
    height, _, channels = (int(d) for d in spec.shape)
    return BackboneSource(
        "run",
        run.path.resolve().name,
        str(run.path.resolve()),
        ORIGIN_RUN,
        dataset=meta.dataset,
        variant=meta.variant,
        channels=channels,
        side=height,
    )


def check(
    backbone: str | None, weights: str | Path | None, modality: str | None = None, path: str | Path | None = None
) -> BackboneSource | None:
    """Resolve the fit options early (one-line errors before any TensorFlow), or None without --backbone.

    Args:
        backbone: --backbone, or None.
        weights: --backbone-weights, or None.
        modality: The data's modality, when known: a single image or video dataset (a collection passes
            "collection": its other members train from scratch).
        path: The data, named in the error for other modalities.
    """
    if backbone is None:
        if weights is not None:
            raise OptionError("--backbone-weights needs --backbone NAME (e.g. --backbone mobilenet_v2)", weights)
        return None
    if modality is not None and modality not in (*MODALITIES, "collection"):
        raise OptionError(f"--backbone applies to images and video; this is {modality} data", path)
    return resolve(backbone, weights)


def for_run(
    backbone: str | None, weights: str | Path | None, run_dir: Path, resuming: bool, modality: str
) -> BackboneSource | None:
    """The backbone of one fit, recorded in RUN_DIR/backbone.json (a resumed run without --backbone reads it);
    None without one, or for data other than images and video (a collection's other members).

    Args:
        backbone: --backbone, or None.
        weights: --backbone-weights, or None.
        run_dir: The run directory.
        resuming: The fit continues run_dir.
        modality: The data's modality.
    """
    if modality not in MODALITIES:
        return None
    record = run_dir / RECORD_FILE
    if backbone is None and resuming and record.is_file():
        saved = json.loads(record.read_text())
        backbone, weights = saved.get("backbone"), saved.get("backbone_weights")
    source = check(backbone, weights)
    if source is not None:  # absolute paths: a resume may start from another folder
        record.write_text(
            json.dumps(
                {
                    "backbone": source.path if source.kind == "run" else str(backbone),
                    "backbone_weights": source.path if weights is not None else None,
                },
                indent=2,
            )
        )
    return source


def frozen_text(unfrozen: int, weighted: int, learning_rate: float | None) -> str:
    """What was frozen, in words, for the report.

    Args:
        unfrozen: Top layers with weights that were fine-tuned (0: the whole backbone frozen).
        weighted: The backbone's layers with weights (batch norm not counted).
        learning_rate: The fine-tuning learning rate, when fine-tuned.
    """
    if unfrozen <= 0:
        return f"the whole backbone ({weighted} layers with weights) frozen; only the new head trained"
    rate = f" at learning rate {learning_rate:.2g}" if learning_rate else ""
    if unfrozen >= weighted:
        return f"all {weighted} layers with weights fine-tuned{rate} with the new head; batch normalisation frozen"
    return (
        f"top {unfrozen} of {weighted} layers with weights fine-tuned{rate} with the new head; the other "
        f"{weighted - unfrozen} and every batch normalisation frozen"
    )


def unused_note(backbone: str | None, modality: str) -> list[str]:
    """The report's note when --backbone was given for data it does not apply to (a collection's member that is
    not images or video), which then trains from scratch; [] otherwise."""
    if backbone is None or modality in MODALITIES:
        return []
    return [f"--backbone {backbone} applies to images and video only; this {modality} dataset trained from scratch"]
