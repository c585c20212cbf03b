"""The TensorFlow-free video source: sniff, profile (metadata only), load (no decoding), decode_clip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from archpick.datasets import frames as frames_mod
from archpick.datasets import video
from archpick.datasets.base import DataOptions
from archpick.datasets.inputspec import InputSpec
from archpick.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
CODEC = "mpeg4"  # in every PyAV wheel; mp4 container, yuv420p
GREY_CODEC = "ffv1"  # lossless, stores gray; mkv does not record a frame count (exercises the fallback)


def frame_value(i: int) -> int:
    """The grey level of frame i in test clips, far enough apart to survive lossy coding."""
    return (i * 37) % 200 + 20


def make_clip(path: Path, n: int, width: int = 32, height: int = 32, fps: int = 10, grey: bool = False) -> Path:
    """Encode an n-frame clip whose frame i is a flat frame_value(i) (red channel) with PyAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    codec = GREY_CODEC if grey else CODEC
    assert codec in av.codecs_available
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "gray" if grey else "yuv420p"
        for i in range(n):
            if grey:
                grey_frame = np.full((height, width), frame_value(i), np.uint8)
                frame = av.VideoFrame.from_ndarray(grey_frame, format="gray")
            else:
                rgb = np.zeros((height, width, 3), np.uint8)
                rgb[..., 0] = frame_value(i)
                rgb[..., 1] = 90
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_frame_folder(folder: Path, n: int, size: int = 24, mode: str = "RGB") -> Path:
    """A clip as a folder of png frames named so that plain string order would be wrong (f2 < f10)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        value = frame_value(i)
        colour = value if mode == "L" else (value, 90, 0, 255)[: len(mode)]
        Image.new(mode, (size, size), colour).save(folder / f"f{i}.png")
    return folder


def make_gif(path: Path, n: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.new("RGB", (20, 16), (frame_value(i), 0, 0)) for i in range(n)]
    images[0].save(path, save_all=n > 1, append_images=images[1:], duration=100, loop=0)
    return path


def red_levels(clip: np.ndarray) -> np.ndarray:
    return clip[..., 0].reshape(len(clip), -1).mean(axis=1)


@pytest.fixture
def two_classes(tmp_path: Path) -> Path:
    root = tmp_path / "gestures"
    for k in range(3):
        make_clip(root / "left" / f"l{k}.mp4", 12)
        make_clip(root / "right" / f"r{k}.mp4", 12)
    (root / "left" / ".DS_Store").write_bytes(b"\x00\x01")
    (root / "right" / "Thumbs.db").write_bytes(b"\x00\x01")
    (root / ".cache").mkdir()
    return root


class CountingContainer:
    """Wraps a PyAV input container and counts the frames it decodes."""

    decoded = 0

    def __init__(self, container):
        self._container = container

    def __getattr__(self, name):
        return getattr(self._container, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._container.__exit__(*exc)

    def decode(self, *args, **kwargs):
        for frame in self._container.decode(*args, **kwargs):
            CountingContainer.decoded += 1
            yield frame


@pytest.fixture
def count_decoded(monkeypatch: pytest.MonkeyPatch) -> type[CountingContainer]:
    real_open = av.open
    monkeypatch.setattr(av, "open", lambda *a, **k: CountingContainer(real_open(*a, **k)))
    monkeypatch.setattr(frames_mod, "_PROBE_CACHE", {})
    CountingContainer.decoded = 0
    return CountingContainer


# sniff ---------------------------------------------------------------------------------------------


def test_sniff_video_folder_ignores_hidden_files(two_classes: Path) -> None:
    assert video.sniff(two_classes)
    assert not video.sniff(two_classes / "left")  # the clips themselves are not class folders
    assert not video.sniff(two_classes / "left" / "l0.mp4")


def test_sniff_rejects_one_class_and_image_folders(tmp_path: Path) -> None:
    make_clip(tmp_path / "one" / "only" / "a.mp4", 4)
    assert not video.sniff(tmp_path / "one")
    for name in ("cat", "dog"):
        (tmp_path / "images" / name).mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(tmp_path / "images" / name / "a.png")
    assert not video.sniff(tmp_path / "images")


def test_sniff_frame_folders_and_split_folders(tmp_path: Path) -> None:
    for name in ("wave", "clap"):
        make_frame_folder(tmp_path / "frames" / name / "clip1", 5)
        make_clip(tmp_path / "split" / "train" / name / "a.mp4", 6)
        make_clip(tmp_path / "split" / "test" / name / "b.mp4", 6)
    assert video.sniff(tmp_path / "frames")
    assert video.sniff(tmp_path / "split")


def test_gif_rule_animated_is_video_single_frame_is_image(tmp_path: Path) -> None:
    for name in ("a", "b"):
        make_gif(tmp_path / "animated" / name / "x.gif", 6)
        make_gif(tmp_path / "stills" / name / "x.gif", 1)
    assert video.sniff(tmp_path / "animated")
    assert not video.sniff(tmp_path / "stills")
    prof = video.profile(tmp_path / "animated", DataOptions())
    assert prof.facts["frame_counts_from"] == {"gif-header": 2}
    assert prof.facts["fps"]["median"] == 10.0
    clip = video.decode_clip(tmp_path / "animated" / "a" / "x.gif", 4, 8)
    assert clip.shape == (4, 8, 8, 3)


# profile ---------------------------------------------------------------------------------------------


def test_profile_two_classes(two_classes: Path) -> None:
    prof = video.profile(two_classes, DataOptions())
    assert prof.modality == "video" and prof.source == "video-folder" and prof.task == "classification"
    assert prof.classes == {"left": 3, "right": 3} and prof.n_samples == 6
    assert prof.split == "holdout" and prof.n_test is None
    assert prof.structure.spatial and prof.structure.temporal
    assert prof.structure.evidence["spatial"] == "frames of 32x32 RGB"
    assert prof.structure.evidence["temporal"].startswith("clips of 12 frames at 10 fps")
    facts = prof.facts
    assert facts["frames"] == 12 and facts["size"] == 32  # min(16, median 12), min(64, side 32)
    assert facts["frames_per_clip"] == {"min": 12, "median": 12.0, "max": 12}
    assert facts["fps"] == {"min": 10.0, "median": 10.0, "max": 10.0}
    assert facts["duration_s"]["median"] == pytest.approx(1.2, abs=0.11)
    assert facts["resolutions"] == [{"size": "32x32", "count": 6}]
    assert facts["channels"] == 3 and facts["short_clips"] == 0 and not prof.skipped
    prof.from_dict(prof.to_dict())  # JSON-able round trip


def test_profile_reads_container_metadata_without_decoding(tmp_path: Path, count_decoded) -> None:
    make_clip(tmp_path / "long" / "a" / "x.mp4", 300, width=16, height=16)
    make_clip(tmp_path / "long" / "b" / "y.mp4", 300, width=16, height=16)
    prof = video.profile(tmp_path / "long", DataOptions())
    assert count_decoded.decoded == 0
    assert prof.facts["frame_counts_from"] == {"metadata": 2}
    assert prof.facts["frames_per_clip"]["max"] == 300 and prof.facts["frames"] == 16
    assert prof.facts["duration_s"]["max"] == pytest.approx(30.0, abs=0.2)


def test_profile_decodes_at_most_one_frame_without_frame_count(tmp_path: Path, count_decoded) -> None:
    make_clip(tmp_path / "mkv" / "a" / "x.mkv", 20, grey=True)
    make_clip(tmp_path / "mkv" / "b" / "y.mkv", 20, grey=True)
    prof = video.profile(tmp_path / "mkv", DataOptions())
    assert count_decoded.decoded == 2  # the first frame of each clip, to validate it
    assert prof.facts["frame_counts_from"] == {"duration": 2}
    assert prof.facts["frames_per_clip"]["median"] == 20
    assert prof.facts["channels"] == 1
    assert prof.structure.evidence["spatial"].startswith("frames of 32x32 greyscale")
    count_decoded.decoded = 0
    video.load(prof, DataOptions())
    assert count_decoded.decoded == 0


def test_frame_folders(tmp_path: Path) -> None:
    root = tmp_path / "frames"
    for name in ("wave", "clap"):
        for k in range(2):
            make_frame_folder(root / name / f"clip{k}", 12)
    make_frame_folder(root / "clap" / "grey", 12, mode="L")
    make_frame_folder(root / "wave" / "alpha", 12, mode="RGBA")
    (root / "wave" / "empty").mkdir()
    prof = video.profile(root, DataOptions(frames=6))
    assert prof.source == "frame-folders" and prof.classes == {"wave": 3, "clap": 3}
    assert prof.facts["frame_counts_from"] == {"count": 6} and prof.facts["fps"] is None
    assert prof.structure.evidence["temporal"].startswith("frame folders of 12 frames")
    assert [s.reason for s in prof.skipped] == ["0 frames (no png/jpg files in the frame folder)"]
    bundle = video.load(prof, DataOptions())
    assert bundle.input_spec.shape == (6, 24, 24, 3)
    for path in bundle.x:
        clip = bundle.decode(path)
        assert clip.shape == (6, 24, 24, 3) and clip.dtype == np.uint8
    # natural order: f2 before f10, so the sampled levels follow frame_value of indices 1, 3, 5, ...
    levels = red_levels(video.decode_clip(root / "wave" / "clip0", 6, 24))
    assert levels.tolist() == [frame_value(i) for i in frames_mod.sample_indices(12, 6)]


def test_split_folders(tmp_path: Path) -> None:
    root = tmp_path / "split"
    for name in ("up", "down"):
        for k in range(2):
            make_clip(root / "train" / name / f"{k}.mp4", 8)
        make_clip(root / "test" / name / "t.mp4", 8)
    prof = video.profile(root, DataOptions())
    assert prof.split == "folders" and prof.n_test == 2 and prof.n_samples == 4
    bundle = video.load(prof, DataOptions())
    assert bundle.class_names == ["down", "up"]
    assert len(bundle.x) == 4 and bundle.y.tolist() == [0, 0, 1, 1]
    assert len(bundle.x_test) == 2 and bundle.y_test.tolist() == [0, 1]
    assert all("/test/" in p for p in bundle.x_test)


def test_unreadable_clips_are_skipped_with_reasons(tmp_path: Path) -> None:
    root = tmp_path / "messy"
    for name in ("a", "b"):
        for k in range(3):
            make_clip(root / name / f"{k}.mp4", 8)
    with av.open(str(root / "a" / "zero.avi"), "w") as container:  # a header and no frame
        stream = container.add_stream(CODEC, rate=10)
        stream.width = stream.height = 32
        container.start_encoding()
    good = (root / "a" / "0.mp4").read_bytes()
    (root / "b" / "truncated.mp4").write_bytes(good[: len(good) // 3])  # mdat kept, moov (index) lost
    (root / "b" / "cut.mp4").write_bytes(good[:40])
    (root / "b" / "notes.mp4").write_text("this is not a video\n")
    prof = video.profile(root, DataOptions())
    reasons = {Path(s.file).name: s.reason for s in prof.skipped}
    assert reasons == {
        "zero.avi": "0 frames",
        "truncated.mp4": "corrupt header (no streams: truncated or empty container)",
        "cut.mp4": "corrupt header (truncated or damaged container)",
        "notes.mp4": "not a video (unrecognised data)",
    }
    assert prof.classes == {"a": 3, "b": 3} and prof.facts["unreadable"] == 4
    bundle = video.load(prof, DataOptions())
    assert len(bundle.x) == 6 and not bundle.skipped
    with pytest.raises(DataError, match="truncated.mp4"):
        video.decode_clip(root / "b" / "truncated.mp4", 4, 8)


def test_mostly_unreadable_or_one_class_is_a_data_error(tmp_path: Path) -> None:
    root = tmp_path / "bad"
    make_clip(root / "a" / "ok.mp4", 8)
    for name in ("x", "y"):
        (root / "b" / f"{name}.mp4").parent.mkdir(parents=True, exist_ok=True)
        (root / "b" / f"{name}.mp4").write_text("text")
    with pytest.raises(DataError, match=r"2 of 3 sampled clips could not be read"):
        video.profile(root, DataOptions())
    make_clip(tmp_path / "single" / "only" / "a.mp4", 8)
    with pytest.raises(DataError, match=r"single.*only one class \('only'\)"):
        video.profile(tmp_path / "single", DataOptions())


def test_short_clip_is_looped_and_counted(tmp_path: Path) -> None:
    root = tmp_path / "short"
    for name in ("a", "b"):
        for k in range(3):
            make_clip(root / name / f"{k}.mp4", 10)
    short = make_clip(root / "a" / "short.mp4", 3)
    prof = video.profile(root, DataOptions(frames=8))
    assert prof.facts["short_clips"] == 1 and prof.facts["short_clip_policy"] == "looped"
    assert any("looped" in note for note in prof.notes)
    bundle = video.load(prof, DataOptions())
    clip = bundle.decode(str(short))
    assert clip.shape == (8, 32, 32, 3)
    levels = red_levels(clip)
    np.testing.assert_allclose(levels[:3], [frame_value(i) for i in range(3)], atol=8)
    np.testing.assert_allclose(levels[3:6], levels[:3], atol=1)  # frames 0, 1, 2 again


def test_mixed_resolutions_and_greyscale_decode_to_one_shape(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    make_clip(root / "a" / "wide.mp4", 10, width=48, height=32)
    make_clip(root / "a" / "square.mp4", 10, width=40, height=40)
    make_clip(root / "b" / "grey.mkv", 10, width=32, height=24, grey=True)
    make_clip(root / "b" / "small.mp4", 10, width=64, height=64)
    prof = video.profile(root, DataOptions())
    assert prof.facts["size"] == 24  # the smallest side in the sample
    assert {r["size"] for r in prof.facts["resolutions"]} == {"48x32", "40x40", "32x24", "64x64"}
    assert prof.facts["channels"] == 3 and prof.facts["pix_fmts"]["gray"] == 1
    assert "4 distinct sizes (resized to 24x24)" in prof.structure.evidence["spatial"]
    bundle = video.load(prof, DataOptions())
    clips = [bundle.decode(p) for p in bundle.x]
    assert {c.shape for c in clips} == {(10, 24, 24, 3)}
    grey = bundle.decode(str(root / "b" / "grey.mkv"))
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()


# decode_clip / load ------------------------------------------------------------------------------------


def test_decode_clip_shape_dtype_and_determinism(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "c.mp4", 40, width=48, height=32)
    clip = video.decode_clip(str(path), 8, 16)
    assert clip.shape == (8, 16, 16, 3) and clip.dtype == np.uint8
    np.testing.assert_array_equal(clip, video.decode_clip(str(path).encode(), 8, 16))  # bytes from tf.data
    expected = [frame_value(i) for i in frames_mod.sample_indices(40, 8)]
    np.testing.assert_allclose(red_levels(clip), expected, atol=8)


def test_random_offset_differs_between_seeds(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "long.mp4", 60)
    a = video.decode_clip(path, 8, 16, rng=np.random.default_rng(0))
    b = video.decode_clip(path, 8, 16, rng=np.random.default_rng(1))
    assert a.shape == b.shape == (8, 16, 16, 3)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, video.decode_clip(path, 8, 16, rng=np.random.default_rng(0)))
    late = video.decode_clip(path, 4, 16, offset=50)
    assert red_levels(late).min() >= min(frame_value(i) for i in range(50, 60)) - 8


def test_sample_indices() -> None:
    assert frames_mod.sample_indices(10, 5).tolist() == [0, 2, 4, 6, 8]
    assert frames_mod.sample_indices(3, 7).tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert frames_mod.sample_indices(10, 2, offset=6).tolist() == [6, 8]
    edges = (np.arange(9) * 100) // 8
    for seed in range(20):  # training: one random frame inside each of 8 equal segments
        picked = frames_mod.sample_indices(100, 8, rng=np.random.default_rng(seed))
        assert ((edges[:-1] <= picked) & (picked < edges[1:])).all()


def test_load_lists_paths_without_decoding(two_classes: Path, count_decoded) -> None:
    prof = video.profile(two_classes, DataOptions())
    bundle = video.load(prof, DataOptions())
    assert count_decoded.decoded == 0
    assert bundle.x.dtype == object and all(isinstance(p, str) for p in bundle.x)
    assert bundle.y.tolist() == [0, 0, 0, 1, 1, 1] and bundle.class_names == ["left", "right"]
    assert bundle.x_test is None and bundle.split == "stratified"
    assert bundle.input_spec == InputSpec("video", (12, 32, 32, 3), "uint8", channels=3, frames=12, size=32)
    train = bundle.decode_train(bundle.x[0], np.random.default_rng(0))
    assert train.shape == (12, 32, 32, 3)


def test_import_does_not_load_tensorflow() -> None:
    code = (
        "import sys, archpick.datasets.video\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'keras_tuner')]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.skipif(not (ROOT / "data" / "clips").is_dir(), reason="data/clips not generated")
def test_profiles_shipped_sample_clips() -> None:
    prof = video.profile(ROOT / "data" / "clips", DataOptions(sample_limit=40))
    assert set(prof.classes) == {"left", "right", "up", "down"}
    assert prof.facts["frames"] == 8 and prof.facts["size"] == 64
    assert prof.facts["frame_counts_from"] == {"metadata": 40} and not prof.skipped
    assert prof.structure.spatial and prof.structure.temporal


REAL_CLIP = Path(__file__).resolve().parents[1] / "data" / "clips" / "left" / "clip_000.mp4"


def test_real_h264_clip(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / "real" / name).mkdir(parents=True)
        (tmp_path / "real" / name / "clip.mp4").write_bytes(REAL_CLIP.read_bytes())
    prof = video.profile(tmp_path / "real", DataOptions())
    assert prof.facts["formats"] == {"h264": 2}
    assert prof.facts["resolutions"] == [{"size": "64x64", "count": 2}]
    assert prof.facts["frames_per_clip"]["median"] == 8
    assert prof.facts["fps"]["median"] == pytest.approx(10.0)
    assert (prof.facts["frames"], prof.facts["size"]) == (8, 64)
    assert prof.structure.evidence["temporal"].startswith("clips of 8 frames at 10 fps")
    clip = video.decode_clip(tmp_path / "real" / "a" / "clip.mp4", 16, 64)  # shorter than 16: looped
    assert clip.shape == (16, 64, 64, 3) and clip.std() > 10  # real picture content, not a flat frame


def test_load_skips_unreadable_clips_that_profile_did_not_sample(tmp_path: Path) -> None:
    root = tmp_path / "big"
    for name in ("a", "b"):
        for k in range(6):
            make_clip(root / name / f"{k}.mp4", 6)
        (root / name / "zz_bad.mp4").write_text("not a video")
    prof = video.profile(root, DataOptions(sample_limit=4))
    assert prof.facts["sampled"] == 4 and prof.facts["n_clips"] == 14
    assert any("4 of 14 clips were opened" in note for note in prof.notes)
    bundle = video.load(prof, DataOptions())
    bad = {s.file for s in prof.skipped} | {s.file for s in bundle.skipped}
    assert bad == {str(root / "a" / "zz_bad.mp4"), str(root / "b" / "zz_bad.mp4")}
    assert not {s.file for s in prof.skipped} & {s.file for s in bundle.skipped}  # each counted once
    assert len(bundle.x) == 12
