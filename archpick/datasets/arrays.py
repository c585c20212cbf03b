"""`.npz`/`.npy` arrays: the shape of X says images, video, sequences or a table.

Keys: X (or x) and y (or Y); optional X_test/y_test for a shipped split; `lengths` (and `lengths_test`)
with X of shape (total_steps, F) for ragged sequences. A folder may hold one `.npz`, a train/test pair of
`.npz` files, or `X.npy` + `y.npy` (+ `X_test.npy`, `y_test.npy`, `lengths.npy`). Files are always opened
with allow_pickle=False. Channels-first images (N,C,H,W) and clips (N,T,C,H,W), (N,C,T,H,W), as PyTorch
saves them, are transposed to channels-last, with a note (see classify_shape).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archpick.datasets import columns as cols
from archpick.datasets import sequences as seq
from archpick.datasets.base import Bundle, DataOptions, is_hidden, split_files
from archpick.datasets.inputspec import InputSpec
from archpick.errors import DataError, OptionError
from archpick.profile import DatasetProfile, Skipped, Structure

SOURCE_NAMES = frozenset({"npz"})

ARRAY_SUFFIXES = frozenset({".npz", ".npy"})
IMAGE_CHANNELS = (1, 3, 4)
MIN_SQUARE_IMAGE = 8
"""A 3-D float array (N, A, A) with A >= this and no NaN is taken for images."""

_KEYS = {
    "X": ("X", "x"),
    "y": ("y", "Y"),
    "lengths": ("lengths",),
    "X_test": ("X_test", "x_test"),
    "y_test": ("y_test", "Y_test"),
    "lengths_test": ("lengths_test",),
}
_SAVE_HINT = "save NaN-padded float arrays, or X concatenated along time with a 'lengths' key"


def _arrays_in(folder: Path) -> tuple[list[Path], bool]:
    """(array files, whether anything else there is data or a sub-folder)."""
    arrays, foreign = [], False
    for p in sorted(folder.iterdir()):
        if is_hidden(p.name):
            continue
        suffix = p.suffix.lower()
        if suffix in ARRAY_SUFFIXES:
            arrays.append(p)
        elif p.is_dir() or suffix in cols.TABLE_SUFFIXES or suffix == ".ts":
            foreign = True
    return arrays, foreign


def _layout(path: Path) -> dict[str, Any]:
    """{"npz": {"train": f, "test": f?}} or {"npy": {key: f}} for a dataset path, or {} when none fits."""
    if path.is_file():
        if path.suffix.lower() == ".npz":
            return {"npz": {"train": str(path)}}
        return {"npy": {"X": str(path)}} if path.suffix.lower() == ".npy" else {}
    if not path.is_dir():
        return {}
    arrays, foreign = _arrays_in(path)
    if foreign or not arrays:
        return {}
    npz = [p for p in arrays if p.suffix.lower() == ".npz"]
    npy = [p for p in arrays if p.suffix.lower() == ".npy"]
    if npz and not npy:
        files = split_files(npz)
        return {"npz": files} if files is not None else {}
    if npy and not npz:
        found: dict[str, str] = {}
        for p in npy:
            for key, names in _KEYS.items():
                if p.stem in names:
                    found[key] = str(p)
        return {"npy": found} if len(found) == len(npy) else {}
    return {}


def sniff(path: Path) -> bool:
    """True for an `.npz`/`.npy` file, or a folder of one `.npz`, a train/test `.npz` pair or X/y `.npy`."""
    path = Path(path)
    return not is_hidden(path.name) and bool(_layout(path))


def _load_file(path: str) -> dict[str, np.ndarray]:
    """Every array in an .npz (or the one in an .npy, as "X"), without pickles."""
    is_npy = path.lower().endswith(".npy")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(6)
    except OSError as exc:
        raise DataError(f"cannot read the file ({exc.strerror}); check that it exists", path=path) from exc
    if not (magic == b"\x93NUMPY" if is_npy else magic[:4] == b"PK\x03\x04"):
        what = "an .npy file" if is_npy else "an .npz (zip) archive"
        raise DataError(f"is not {what}; save the arrays with numpy.savez(file, X=X, y=y)", path=path)
    try:
        if is_npy:
            return {"X": np.load(path, allow_pickle=False)}
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise DataError(
                f"holds Python object arrays, which archpick does not unpickle; {_SAVE_HINT}", path=path
            ) from exc
        raise DataError(f"cannot read the arrays ({exc}); save them with numpy.savez", path=path) from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read the arrays ({exc}); save them with numpy.savez", path=path) from exc


def _pick(found: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Normalise key names (x -> X, Y -> y ...)."""
    out = {}
    for key, names in _KEYS.items():
        for name in names:
            if name in found:
                out[key] = found[name]
                break
    return out


def read_arrays(path: Path) -> tuple[dict[str, np.ndarray], str]:
    """All arrays of a dataset under normalised keys (X, y, lengths, X_test, y_test, lengths_test).

    Returns:
        (arrays, the file named in errors).

    Raises:
        DataError: Unreadable or pickled arrays, a missing X or y (listing the keys found).
    """
    layout = _layout(Path(path))
    if not layout:
        raise DataError("expected an .npz file, a train/test pair of .npz files, or X.npy and y.npy", path=path)
    found: dict[str, np.ndarray] = {}
    if "npy" in layout:
        file = layout["npy"].get("X", str(path))
        for key, f in layout["npy"].items():
            found[key] = _load_file(f)["X"]
        names = sorted(found)
    else:
        files = layout["npz"]
        file = files["train"]
        raw = _load_file(file)
        names = sorted(raw)
        found = _pick(raw)
        if "test" in files:
            test = _pick(_load_file(files["test"]))
            for key in ("X", "y", "lengths"):
                if key in test:
                    found[f"{key}_test"] = test[key]
    missing = [k for k in ("X", "y") if k not in found]
    if missing:
        keys = ", ".join(names) or "none"
        raise DataError(
            f"no {' and no '.join(missing)} array (found: {keys}); save inputs as X and labels as y, "
            "e.g. numpy.savez(file, X=X, y=y)",
            path=file,
        )
    if ("X_test" in found) != ("y_test" in found):
        raise DataError("X_test and y_test must come together; save both or neither", path=file)
    return found, file


def read_inputs(file: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """X (and lengths, if saved) from an .npz/.npy of new inputs, for prediction; labels not needed.

    Raises:
        DataError: Unreadable or pickled arrays, or no X in an .npz with several arrays.
    """
    found = _load_file(str(file))
    picked = _pick(found)
    if "X" not in picked:
        if len(found) != 1:
            raise DataError(f"no X array (found: {', '.join(sorted(found))}); save inputs as X", path=file)
        picked["X"] = next(iter(found.values()))
    return picked["X"], picked.get("lengths")


def _labels(y: np.ndarray, n: int, file: str, key: str) -> tuple[np.ndarray, list[str]]:
    """One label per sample (one-hot rows become indices); notes on what was done."""
    notes = []
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2 and y.shape[1] > 1 and np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all():
        y = y.argmax(axis=1)
        notes.append(f"{key} was one-hot: turned into class indices")
    if y.ndim != 1:
        raise DataError(f"{key} has shape {tuple(y.shape)}; give one label per sample, shape ({n},)", path=file)
    if len(y) != n:
        raise DataError(f"X has {n} samples but {key} has {len(y)}; give one label per sample", path=file)
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise DataError(f"{key} holds NaN or infinite labels; remove those samples", path=file)
    if y.dtype.kind not in "biufUS":
        raise DataError(f"{key} has dtype {y.dtype}; use numbers or strings", path=file)
    return y, notes


@dataclass
class Shape:
    """What an X array was taken for: modality, the per-sample shape to use, and why."""

    modality: str
    sample_shape: tuple[int, ...]
    evidence: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    axes: tuple[int, ...] | None = None
    """Axis order to transpose X to before reshaping (channels-first arrays), or None to keep it."""

    def arrange(self, x: np.ndarray) -> np.ndarray:
        """X (or X_test) transposed and reshaped to (N, *sample_shape)."""
        x = x.transpose(self.axes) if self.axes else x
        return x.reshape(len(x), *self.sample_shape)


def _spatial(h: int, w: int) -> bool:
    """Two axes that look like an image's height and width: both >= MIN_SQUARE_IMAGE, at most 4:1 apart."""
    return min(h, w) >= MIN_SQUARE_IMAGE and max(h, w) <= 4 * min(h, w)


def _channels_first(desc: str, rest: tuple[int, ...], kind: str | None) -> Shape | None:
    """Images (N,C,H,W) or clips (N,T,C,H,W) / (N,C,T,H,W) stored channels-first, as channels-last Shapes.

    The channel axis is a small axis of 1, 3 or 4 before two larger, near-square spatial axes while the last
    axis is not a channel count. None when X does not look channels-first.
    """
    if len(rest) < 3 or rest[-1] in IMAGE_CHANNELS or not _spatial(*rest[-2:]):
        return None
    hint = ""
    if len(rest) == 3:
        if rest[0] not in IMAGE_CHANNELS or kind == "video":
            return None
        c, h, w = rest
        modality, sample, axes = "image", (h, w, c), (0, 2, 3, 1)
        what = f"images of {c} channel(s) of {h}x{w}"
        hint = "; pass --kind video if that axis is frames"
    elif rest[1] in IMAGE_CHANNELS:
        t, c, h, w = rest
        modality, sample, axes = "video", (t, h, w, c), (0, 1, 3, 4, 2)
        what = f"clips of {t} frames of {h}x{w} with {c} channel(s) (N, T, C, H, W)"
    elif rest[0] in IMAGE_CHANNELS:
        c, t, h, w = rest
        modality, sample, axes = "video", (t, h, w, c), (0, 2, 3, 4, 1)
        what = f"clips of {t} frames of {h}x{w} with {c} channel(s) (N, C, T, H, W)"
    else:
        return None
    dims = ", ".join(str(d) for d in sample)
    note = f"{desc} is channels-first: read as {what} and transposed to channels-last (N, {dims}){hint}"
    evidence = f"{desc}: channels-first {what}, transposed to channels-last"
    temporal = {"temporal": evidence} if modality == "video" else {}
    return Shape(modality, sample, {"spatial": evidence, **temporal}, [note], axes)


def classify_shape(x: np.ndarray, kind: str | None) -> Shape:
    """Decide what X holds from its shape, dtype and values.

    Rules: (N,F) -> table; (N,H,W) or (N,H,W,C) with C in 1,3,4, of uint8 or whole numbers in 0..255 ->
    image; other 3-D floats (N,A,B) -> image when A == B >= MIN_SQUARE_IMAGE and no NaN, else sequence;
    channels-first (N,C,H,W), (N,T,C,H,W) and (N,C,T,H,W) (C in 1,3,4, H and W spatial, see
    _channels_first) -> images or video, transposed to channels-last with a note; other 4-D (N,T,H,W) and
    5-D (N,T,H,W,C) -> video. --kind overrides where the shape allows.

    Raises:
        OptionError: A --kind the shape cannot be read as.
        DataError: Shapes of other ranks.
    """
    shape = tuple(int(s) for s in x.shape)
    rest, ndim = shape[1:], x.ndim
    desc = f"X of shape {shape} ({x.dtype})"
    fits = {
        1: ("table",),
        2: ("table", "sequence"),
        3: ("image", "sequence", "table"),
        4: ("image", "video", "table"),
        5: ("video", "table"),
    }.get(ndim)
    if fits is None:
        raise DataError(f"{desc}: archpick reads 2-D to 5-D arrays (samples first)")
    cols.check_kind(kind, fits, f"an array of shape {shape}")
    if kind == "table" and ndim > 2:
        return Shape(
            "table",
            (int(np.prod(rest)),),
            {"tabular": f"{desc} flattened by --kind table"},
            [f"X flattened from {rest} to {int(np.prod(rest))} features (--kind table)"],
        )
    if ndim <= 2:
        if kind == "sequence":
            return Shape("sequence", (rest[0], 1), {"temporal": f"{desc}: columns taken as time steps (--kind)"})
        width = rest[0] if rest else 1
        notes = [] if rest else ["X is 1-D: taken as one feature per sample"]
        return Shape("table", (width,), {"tabular": f"{desc}: rows of {width} unordered features"}, notes)
    pixel_like = x.dtype == np.uint8 or (
        x.dtype.kind in "iub" and x.size > 0 and int(x.min()) >= 0 and int(x.max()) <= 255
    )
    if ndim == 3:
        a, b = rest
        if kind is None:
            if pixel_like:
                kind = "image"
                why = "8-bit pixel values"
            else:
                has_nan = bool(x.dtype.kind == "f" and np.isnan(x).any())
                square = a == b and a >= MIN_SQUARE_IMAGE
                kind = "image" if square and not has_nan else "sequence"
                why = (
                    f"ambiguous 3-D float array: rule 'image when the two axes are equal and >= "
                    f"{MIN_SQUARE_IMAGE} with no NaN, else sequence'; axes {a} and {b}, "
                    f"{'NaN present' if has_nan else 'no NaN'}"
                )
        else:
            why = f"--kind {kind}"
        if kind == "image":
            return Shape("image", (a, b, 1), {"spatial": f"{desc}: single-channel images ({why})"})
        return Shape("sequence", (a, b), {"temporal": f"{desc}: {a} steps of {b} values ({why})"})
    first = _channels_first(desc, rest, kind)
    if first is not None:
        return first
    if ndim == 4:
        channels_last = rest[2] in IMAGE_CHANNELS
        if kind == "image" or (kind is None and channels_last):
            return Shape("image", rest, {"spatial": f"{desc}: images of {rest[2]} channel(s)"})
        t, h, w = rest
        evidence = f"{desc}: clips of {t} frames of {h}x{w} (last axis {w} is not 1, 3 or 4 channels)"
        return Shape("video", (t, h, w, 1), {"spatial": evidence, "temporal": evidence})
    evidence = f"{desc}: clips of {rest[0]} frames of {rest[1]}x{rest[2]}x{rest[3]}"
    return Shape("video", rest, {"spatial": evidence, "temporal": evidence})


def _cases(
    x: np.ndarray, lengths: np.ndarray | None, y: np.ndarray, shape: Shape, file: str, key: str
) -> tuple[list[np.ndarray], np.ndarray, list[Skipped]]:
    """Sequence cases trimmed of trailing all-NaN steps, their labels, and the all-NaN cases skipped."""
    if lengths is not None:
        raw = seq.split_ragged(x, lengths, file)
    else:
        raw = list(x.reshape(len(x), *shape.sample_shape).astype(np.float64))
    trimmed = [c[: seq.effective_length(c)] for c in raw]
    keep = [i for i, c in enumerate(trimmed) if len(c)]
    skipped = [Skipped(f"{file}:{key}[{i}]", "all values missing") for i, c in enumerate(trimmed) if not len(c)]
    return [trimmed[i] for i in keep], y[keep], skipped


def _task(y: np.ndarray, y_test: np.ndarray | None) -> tuple[str, str, dict[str, int]]:
    task, reason = cols.target_task(pd.Series(y.astype(str) if y.dtype.kind in "US" else y))
    classes: dict[str, int] = {}
    if task == "classification":
        _, _, (classes, *_) = cols.encode_labels(list(y), [] if y_test is None else list(y_test))
    return task, reason, classes


def _prepare(path: Path, opts: DataOptions) -> dict[str, Any]:
    """Read, validate and classify; shared by profile and load."""
    found, file = read_arrays(path)
    lengths = found.get("lengths")
    x = found["X"]
    if x.dtype.kind not in "biuf":
        raise DataError(f"X has dtype {x.dtype}; {_SAVE_HINT}", path=file)
    n = len(lengths) if lengths is not None else len(x)
    y, notes = _labels(found["y"], n, file, "y")
    has_test = "X_test" in found
    if lengths is not None:
        if opts.kind not in (None, "sequence"):
            raise OptionError(
                f"--kind {opts.kind} does not fit ragged sequences (a 'lengths' key); use "
                "--kind sequence or leave it out"
            )
        channels = 1 if x.ndim == 1 else int(x.shape[1])
        shape = Shape(
            "sequence",
            (-1, channels),
            {"temporal": f"X of shape {tuple(x.shape)} split by 'lengths' into {n} sequences"},
        )
    else:
        shape = classify_shape(x, opts.kind)
    y_test = None
    if has_test:
        x_test = found["X_test"]
        n_test = len(found["lengths_test"]) if "lengths_test" in found else len(x_test)
        y_test, test_notes = _labels(found["y_test"], n_test, file, "y_test")
        notes += test_notes
        if lengths is None and shape.modality != "sequence" and tuple(x_test.shape[1:]) != tuple(x.shape[1:]):
            raise DataError(
                f"X_test samples have shape {tuple(x_test.shape[1:])}, X samples "
                f"{tuple(x.shape[1:])}; give both the same shape",
                path=file,
            )
    return {
        "found": found,
        "file": file,
        "x": x,
        "y": y,
        "y_test": y_test,
        "shape": shape,
        "notes": notes,
        "lengths": lengths,
    }


def profile(path: Path, opts: DataOptions) -> DatasetProfile:
    """Profile arrays: shape dispatch, labels, and per-modality facts."""
    path = Path(path)
    state = _prepare(path, opts)
    x, y, y_test, shape, file = state["x"], state["y"], state["y_test"], state["shape"], state["file"]
    found = state["found"]
    cols.check_samples(len(y), "samples", file)
    task, reason, classes = _task(y, y_test)
    if task == "classification":
        cols.check_classes(classes, "y", file)
    facts: dict[str, Any] = {
        "files": _layout(path),
        "x_shape": [int(s) for s in x.shape],
        "x_dtype": str(x.dtype),
        "target_reason": reason,
    }
    structure = Structure(evidence=dict(shape.evidence))
    skipped: list[Skipped] = []
    n_samples = len(y)
    n_test = len(y_test) if y_test is not None else None
    if shape.modality == "sequence":
        cases, _, skipped = _cases(x, state["lengths"], y, shape, file, "X")
        test_cases: list[np.ndarray] = []
        if y_test is not None:
            test_cases, _, test_skipped = _cases(
                found["X_test"], found.get("lengths_test"), y_test, shape, file, "X_test"
            )
            skipped += test_skipped
            n_test = len(test_cases)
        if not cases:
            raise DataError("every sequence is all NaN; fill in values", path=file)
        lengths = [len(c) for c in cases + test_cases]
        seq_facts, seq_structure = seq.describe_lengths(lengths, shape.sample_shape[-1], f"X ({file})")
        seq_structure.evidence["temporal"] = shape.evidence.get("temporal", seq_structure.evidence["temporal"])
        facts.update(seq_facts)
        structure = seq_structure
        n_samples = len(cases)
    elif shape.modality == "table":
        structure.tabular = True
        facts["n_features"] = int(shape.sample_shape[0])
        facts["missing_values"] = int((~np.isfinite(x)).sum()) if x.dtype.kind == "f" else 0
    else:
        structure.spatial = True
        structure.temporal = shape.modality == "video"
        sample = shape.sample_shape
        facts.update(
            {
                "height": sample[-3],
                "width": sample[-2],
                "channels": sample[-1],
                "value_range": [float(np.nanmin(x)), float(np.nanmax(x))] if x.size else [0.0, 0.0],
            }
        )
        if shape.modality == "video":
            facts["frames"] = sample[0]
    return DatasetProfile(
        path=str(path),
        name=cols.dataset_name(path),
        modality=shape.modality,
        task=task,
        source="npz",
        n_samples=n_samples,
        classes=classes,
        split="files" if n_test is not None else "holdout",
        n_test=n_test,
        facts=facts,
        structure=structure,
        skipped=skipped,
        notes=state["notes"] + shape.notes,
    )


def load(profile: DatasetProfile, opts: DataOptions) -> Bundle:
    """The arrays, shaped for the model: images (N,H,W,C), video (N,T,H,W,C), NaN-padded sequences, tables."""
    state = _prepare(Path(profile.path), opts)
    x, y, y_test, shape, file, found = (state[k] for k in ("x", "y", "y_test", "shape", "file", "found"))
    task = profile.task
    x_test = found.get("X_test")
    if shape.modality == "sequence":
        cases, y, _ = _cases(x, state["lengths"], y, shape, file, "X")
        test_cases: list[np.ndarray] = []
        if y_test is not None:
            test_cases, y_test, _ = _cases(x_test, found.get("lengths_test"), y_test, shape, file, "X_test")
        length = max(len(c) for c in cases + test_cases)
        xs = seq.pad_sequences(cases, length)
        xt = seq.pad_sequences(test_cases, length) if x_test is not None else None
        spec = seq.sequence_spec(shape.sample_shape[-1], length, profile.structure.variable_length)
    else:
        dtype = np.uint8 if x.dtype == np.uint8 and shape.modality in ("image", "video") else np.float32
        xs = shape.arrange(x).astype(dtype)
        xt = shape.arrange(x_test).astype(dtype) if x_test is not None else None
        spec = InputSpec(
            shape.modality,
            tuple(shape.sample_shape),
            np.dtype(dtype).name,
            channels=shape.sample_shape[-1] if shape.modality in ("image", "video") else None,
            frames=shape.sample_shape[0] if shape.modality == "video" else None,
            columns=tuple(f"x{i}" for i in range(shape.sample_shape[0])) if shape.modality == "table" else None,
        )
        if shape.modality == "table":
            for arr in (xs, xt) if xt is not None else (xs,):
                arr[~np.isfinite(arr)] = np.nan
    ys, names = cols.encode_targets(task, y, *([] if y_test is None else [y_test]))
    yy, yt = ys[0], ys[1] if y_test is not None else None
    return Bundle(x=xs, y=yy, class_names=names, x_test=xt, y_test=yt, input_spec=spec, split="stratified")
