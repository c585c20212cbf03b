"""Decoding files: one file to an array for the input pipelines (failures counted, the cache size rule), and
text files (CSV tables, documents) to str with the encoding detected and no character replaced.

The array helpers are shared by the tf.data pipeline (archpick/pipeline.py) and the backend-neutral batches
(archpick/batches.py); `decode_text` by the table reader (archpick/datasets/columns.py).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from archpick.datasets.inputspec import InputSpec
from archpick.errors import DataError

CACHE_LIMIT_BYTES = 256 * 2**20  # decoded samples are cached in memory below this size


@dataclass
class DecodeFailures:
    """Files that failed to decode while streaming (thread-safe; reported and counted)."""

    files: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, file: str, reason: str) -> None:
        with self.lock:
            self.files.setdefault(file, reason)


def first_line(exc: BaseException) -> str:
    """A decode error as one short line for the report."""
    return str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__


def input_dtype(spec: InputSpec) -> type:
    """The numpy dtype of a non-text input: uint8 for raw pixels, else float32."""
    return np.uint8 if spec.dtype == "uint8" else np.float32


def fits_cache(n: int, shape: list[int | None] | tuple, dtype: type) -> bool:
    """Whether `n` decoded samples of `shape` and `dtype` fit under CACHE_LIMIT_BYTES."""
    return n * int(np.prod([d or 1 for d in shape])) * np.dtype(dtype).itemsize <= CACHE_LIMIT_BYTES


def decode_file(
    path: str, decode: Callable[[str], np.ndarray], shape, dtype: type, failures: DecodeFailures
) -> np.ndarray | None:
    """One file as an array of `shape` and `dtype`; a file that fails is counted in `failures` and gives None."""
    try:
        return np.asarray(decode(path), dtype=dtype).reshape(shape)
    except Exception as exc:  # noqa: BLE001 - a bad file is skipped and counted, never fatal
        failures.add(path, first_line(exc))
        return None


# Text files (CSV tables, documents): the encoding is detected, never guessed by replacing bytes.

LEGACY_ENCODING = "cp1252"
"""The single-byte code page tried when a file is not UTF-8 (Windows-1252, a superset of Latin-1's letters)."""

_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32 LE with a byte-order mark"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32 BE with a byte-order mark"),
    (b"\xef\xbb\xbf", "utf-8", "UTF-8 with a byte-order mark"),
    (b"\xff\xfe", "utf-16-le", "UTF-16 LE with a byte-order mark"),
    (b"\xfe\xff", "utf-16-be", "UTF-16 BE with a byte-order mark"),
)
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{3,}")
_PEEK = 4096


@dataclass(frozen=True)
class DecodedText:
    """A text file's content and how it was decoded.

    Attributes:
        text: The decoded text (a byte-order mark removed).
        encoding: The Python codec used ("utf-8", "utf-16-le", "cp1252"...).
        label: The encoding in words ("UTF-8", "UTF-16 LE with a byte-order mark", "windows-1252").
        note: What a user should know about the decoding; empty for plain UTF-8.
    """

    text: str
    encoding: str
    label: str
    note: str = ""


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _utf16_without_bom(raw: bytes) -> str | None:
    """The UTF-16 codec of a BOM-less file whose NUL bytes fill the odd (LE) or even (BE) offsets, else None."""
    head = raw[: _PEEK - _PEEK % 2]
    pairs = len(head) // 2
    if pairs < 2:
        return None
    zero_odd = head[1::2].count(0) / pairs
    zero_even = head[0::2].count(0) / pairs
    if zero_odd >= 0.5 and zero_even <= 0.05:
        return "utf-16-le"
    if zero_even >= 0.5 and zero_odd <= 0.05:
        return "utf-16-be"
    return None


def _strict(raw: bytes, encoding: str, label: str, path: str, fix: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"is marked as {label} but byte {exc.start} (line {_line_of(raw, exc.start)}) does not decode; {fix}",
            path=path,
        ) from exc


def _legacy(raw: bytes, error: UnicodeDecodeError, path: str, fix: str) -> DecodedText:
    """A file that is not UTF-8, as Windows-1252, or refused when that would change its characters."""
    where = f"byte 0x{raw[error.start]:02x} on line {_line_of(raw, error.start)}"
    utf8 = len(_UTF8_SEQUENCE.findall(raw))
    non_ascii = sum(b >= 0x80 for b in raw)
    if utf8 >= 2 and utf8 * 2 >= 0.1 * non_ascii:
        raise DataError(f"mixes UTF-8 with another encoding ({where} is not UTF-8); {fix}", path=path)
    try:
        text = raw.decode(LEGACY_ENCODING)
    except UnicodeDecodeError as exc:
        bad = f"byte 0x{raw[exc.start]:02x} on line {_line_of(raw, exc.start)}"
        raise DataError(f"is neither UTF-8 nor Windows-1252 ({bad}); {fix}", path=path) from exc
    accented = [c for c in text if ord(c) >= 0x80]
    in_runs = sum(len(m) for m in _NON_ASCII_RUN.findall(text))
    if len(accented) >= 20 and in_runs >= 0.5 * len(accented):
        raise DataError(
            f"is not UTF-8 ({where}), and as Windows-1252 it reads as runs of accented letters: it is in another "
            f"code page (Cyrillic, Greek...); {fix}",
            path=path,
        )
    note = f"not UTF-8 ({where}): decoded as windows-1252, every character kept; re-save it as UTF-8 to be sure"
    return DecodedText(text, LEGACY_ENCODING, "windows-1252", note)


def decode_text(raw: bytes, path: str | Path, what: str = "text", fix: str = "re-save it as UTF-8") -> DecodedText:
    """Decode a text file's bytes without replacing a character.

    Order: a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32) decodes strictly; NUL bytes at every other
    offset are BOM-less UTF-16; other NUL bytes are binary data; then strict UTF-8; then Windows-1252 (which
    covers Latin-1 text), unless the bytes mix UTF-8 with something else or read as another code page.

    Args:
        raw: The file's bytes.
        path: The file, named in errors.
        what: What the file should be, in words, for the binary-data error ("a text table").
        fix: What to do, ending each error ("re-save it as UTF-8").

    Returns:
        The text and the encoding used, with a note whenever it was not plain UTF-8.

    Raises:
        DataError: Binary data, or bytes no safe decoding explains (one line naming the file and the fix).
    """
    path = str(path)
    for bom, encoding, label in _BOMS:
        if raw.startswith(bom):
            text = _strict(raw[len(bom) :], encoding, label, path, fix)
            note = "" if encoding == "utf-8" else f"decoded as {label}"
            return DecodedText(text, encoding, label, note)
    if b"\0" in raw:
        encoding = _utf16_without_bom(raw)
        if encoding is None:
            raise DataError(f"holds binary data, not {what}; {fix}", path=path)
        label = f"UTF-16 {encoding[-2:].upper()} without a byte-order mark"
        text = _strict(raw, encoding, label, path, fix)
        return DecodedText(text, encoding, label, f"decoded as {label}")
    try:
        return DecodedText(raw.decode("utf-8"), "utf-8", "UTF-8")
    except UnicodeDecodeError as exc:
        return _legacy(raw, exc, path, fix)
