"""The corpus stamp: what one commit of the index holds, in one small file.

``is_stale`` runs before every command-line search. It compared each corpus
file's size and mtime with the index's record of it, and reading those
records decoded one stored document per report and opened every segment:
0.04 s at 365 reports, most of the 2.26 s of a cold search at 1M passages
(8,465 reports). The stamp holds the same facts, written beside the index
after each commit: the commit it describes (the table of contents'
generation and file identity), the analysis fingerprint the index was cut
with, and each report's size and mtime. ``is_stale`` then reads one file.

It is derived data, never the source of truth: a stamp that does not name
the current table of contents, or whose checksum fails, is ignored and
written anew from the index's records; ``sync`` reads the records
themselves; ``check`` compares the stamp with them (:func:`differs`).

>>> stamp = Stamp("1:2:3:4", "abc", {"报告.txt": (120, 1.5)}, {"MAIN_x.pst": (10, 7)})
>>> Stamp.from_bytes(stamp.to_bytes()) == stamp
True
>>> Stamp.from_bytes(stamp.to_bytes().replace(b"120", b"121")) is None
True
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from indexer.corpus import write_atomically

STAMP_FILE = "corpus-stamp.json"
STAMP_FORMAT = 1
# ~70 bytes a report (name, size, mtime): 0.6 MB at 8,465 reports. A larger
# file is not read (a hostile or broken index folder); the records are.
MAX_STAMP_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Stamp:
    """The commit it describes, how the index was cut, each report's size and mtime."""

    commit: str  # toc_identity() of the table of contents read
    analysis: str | None  # the ``meta`` record's analysis fingerprint
    files: dict[str, tuple[int, float]]
    # The size and mtime_ns of each file of the commit's segments: one
    # truncated, overwritten or deleted since (damage) sends is_stale back
    # to reading the records, which finds it, as it did before the stamp.
    segments: dict[str, tuple[int, int]] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """A checksum line, then the JSON body it covers."""
        body = json.dumps({"format": STAMP_FORMAT, "commit": self.commit,
                           "analysis": self.analysis,
                           "files": {s: [size, mtime] for s, (size, mtime) in
                                     sorted(self.files.items())},
                           "segments": {n: [size, mtime] for n, (size, mtime) in
                                        sorted(self.segments.items())}},
                          ensure_ascii=False, separators=(",", ":")).encode()
        return _checksum(body).encode() + b"\n" + body

    @classmethod
    def from_bytes(cls, data: bytes) -> Stamp | None:
        """The stamp, or None when the checksum or the form is wrong."""
        line, _, body = data.partition(b"\n")
        if line.decode("ascii", "replace") != _checksum(body):
            return None
        try:
            raw = json.loads(body)
            if raw.get("format") != STAMP_FORMAT or not isinstance(raw["commit"], str):
                return None
            analysis = raw["analysis"]
            if analysis is not None and not isinstance(analysis, str):
                return None
            files = {str(s): (int(size), float(mtime)) for s, (size, mtime) in
                     raw["files"].items()}
            segments = {str(n): (int(size), int(mtime)) for n, (size, mtime) in
                        raw["segments"].items()}
        except (AttributeError, KeyError, TypeError, ValueError, RecursionError):
            return None  # RecursionError: "[[[[…" nested past the parser's depth
        return cls(raw["commit"], analysis, files, segments)


def _checksum(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def toc_identity(index_dir: Path, generation: int) -> str | None:
    """Names one commit: its generation and its table of contents' inode, size and
    mtime, so that a table of contents copied or restored in its place with the
    same number is a different commit. None when there is none."""
    try:
        stat = os.stat(Path(index_dir) / f"_MAIN_{generation}.toc")
    except OSError:
        return None
    return f"{generation}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"


def segment_files(index_dir: Path, prefixes: list[str], derived: str) -> dict[str, tuple[int, int]]:
    """Size and mtime_ns of every file whose name starts with one of ``prefixes``
    (a segment's ``MAIN_<id>.``), but for ``derived`` ones (the search arrays,
    checked by their own CRC)."""
    found = {}
    with os.scandir(index_dir) as entries:
        for entry in entries:
            if entry.name.startswith(tuple(prefixes)) and not entry.name.endswith(derived):
                stat = entry.stat(follow_symlinks=False)
                found[entry.name] = (stat.st_size, stat.st_mtime_ns)
    return found


def segments_unchanged(index_dir: Path, stamp: Stamp) -> bool:
    """Whether every segment file of the stamp's commit is as it was written."""
    for name, (size, mtime) in stamp.segments.items():
        try:
            stat = os.stat(Path(index_dir) / name, follow_symlinks=False)
        except OSError:
            return False
        if (stat.st_size, stat.st_mtime_ns) != (size, mtime):
            return False
    return True


def read(index_dir: Path) -> Stamp | None:
    """The stamp beside the index; None when there is none or it cannot be trusted."""
    try:
        with open(Path(index_dir) / STAMP_FILE, "rb") as file:
            data = file.read(MAX_STAMP_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_STAMP_BYTES:
        return None
    return Stamp.from_bytes(data)


def write(index_dir: Path, stamp: Stamp) -> bool:
    """Replace the stamp in one step; False when the folder cannot be written
    (a read-only index: the records are read instead, as before)."""
    try:
        write_atomically(Path(index_dir) / STAMP_FILE, stamp.to_bytes(), make_folders=False)
    except OSError:
        return False
    return True


def differs(kept: Stamp, right: Stamp) -> str | None:
    """What is wrong with the kept stamp of a commit, against the one its records give."""
    if kept.analysis != right.analysis:
        return "names another analysis fingerprint than the index's"
    if kept.files != right.files:
        wrong = sorted(set(kept.files.items()) ^ set(right.files.items()))
        return f"disagrees with the index's records on {len({s for s, _ in wrong})} reports"
    return None
