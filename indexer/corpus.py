"""The corpus folder: which files are reports and how one is written.

What a report may be called is :mod:`indexer.names`; the size limit and the
atomic write are here, with the paths of the user's dictionary and synonyms,
which live beside the reports.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from indexer import names
from indexer.errors import NoCorpus, UnsupportedFile
from indexer.readers import is_supported

USER_DICTIONARY = "userdict.dic"
USER_SYNONYMS = "synonyms.dic"

# Larger files are refused before they are read: a report this size is
# almost certainly not one report, and reading it would hold it all in memory.
MAX_FILE_BYTES = 100 * 1024 * 1024

TOO_LARGE = f"larger than {MAX_FILE_BYTES // 2**20} MB; split it into smaller reports"


def refuse_if_too_large(name: str, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise UnsupportedFile(name, TOO_LARGE, code="too_large")


def write_atomically(path: Path, data: bytes, make_folders: bool = True) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one.

    ``make_folders`` False refuses a missing folder (FileNotFoundError), as
    other tools do, instead of making it.
    """
    if make_folders:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".zhsearch-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _walk(folder: Path, parents: tuple[str, ...],
          entries: list[tuple[tuple[str, ...], os.DirEntry[str]]]) -> None:
    """Every entry under ``folder`` that is not hidden and not under a hidden
    folder, with its path's parts; no directory link is followed. A folder
    that cannot be listed is passed over, as ``Path.rglob`` does."""
    try:
        with os.scandir(folder) as listing:
            found = list(listing)
    except PermissionError:
        return
    for entry in found:
        if names.is_hidden(entry.name):
            continue
        parts = (*parents, entry.name)
        entries.append((parts, entry))
        if entry.is_dir(follow_symlinks=False):
            _walk(Path(entry.path), parts, entries)


class Corpus:
    """A folder of report files."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        # What the last files() left out, and why: a name that is not UTF-8,
        # a symbolic link. Reported by sync, never indexed.
        self.skipped: list[UnsupportedFile] = []

    @property
    def user_dictionary(self) -> Path:
        return self.folder / USER_DICTIONARY

    @property
    def synonyms_file(self) -> Path:
        return self.folder / USER_SYNONYMS

    def require(self) -> None:
        """Raise :class:`NoCorpus` unless the folder exists and can be listed.

        ``rglob`` yields nothing for a missing or unreadable folder: read as
        a corpus without reports, it removed every report from the index
        (issue 19: a mistyped ``--corpus``, an unmounted share).

        >>> Corpus("/no/such/dir").require()
        Traceback (most recent call last):
        indexer.errors.NoCorpus: cannot read the corpus folder /no/such/dir: no such folder
        """
        try:
            with os.scandir(self.folder) as entries:
                next(entries, None)
        except FileNotFoundError:
            raise NoCorpus(self.folder) from None
        except NotADirectoryError:
            raise NoCorpus(self.folder, "not a folder") from None
        except OSError as error:
            raise NoCorpus(self.folder, error.strerror or str(error)) from None

    def files(self) -> dict[str, Path]:
        """Report files under the folder, by path relative to it; hidden ones skipped.

        Symbolic links are never followed (a link could make any file on the
        machine searchable) and names that are not UTF-8 cannot be shown or
        stored: both are left out and listed in :attr:`skipped`, so that one
        such file never stops the others (issue 13).
        """
        self.require()
        found: dict[str, Path] = {}
        skipped: list[UnsupportedFile] = []
        self.skipped = skipped
        entries: list[tuple[tuple[str, ...], os.DirEntry[str]]] = []
        _walk(self.folder, (), entries)
        # In the order of sorted(rglob("*")), which this replaced: it built a
        # Path per entry and sorted Paths, 0.18 s of CPU at 8,470 files (a
        # cold search at 1M passages lists them all); os.scandir reads the
        # kind of each entry from the folder itself, 0.03 s.
        entries.sort(key=lambda item: item[0])
        for parts, entry in entries:
            name = "/".join(parts)
            if entry.is_symlink():
                if is_supported(entry.name):
                    skipped.append(names.symlink_refused(name))
                continue
            problem = names.encoding_problem(name)
            if problem:
                skipped.append(problem)
                continue
            if entry.is_file() and is_supported(entry.name):
                found[name] = Path(entry.path)
        return found

    def path_of(self, source: str) -> Path | None:
        """The path of the report called ``source`` (:func:`indexer.names.path_in`)."""
        return names.path_in(self.folder, source)
