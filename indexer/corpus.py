"""The corpus folder: which files are reports, what a report may be called, how it is written.

One rule for a report's name serves the CLI and the web; the size limit and
the atomic write are here too, with the paths of the user's dictionary and
synonyms, which live beside the reports.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
import unicodedata
from pathlib import Path

from indexer.errors import NoCorpus, UnsupportedFile
from indexer.readers import is_supported

USER_DICTIONARY = "userdict.dic"
USER_SYNONYMS = "synonyms.dic"

# Larger files are refused before they are read: a report this size is
# almost certainly not one report, and reading it would hold it all in memory.
MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_NAME_BYTES = 255  # what Linux file systems allow for one name

TOO_LARGE = f"larger than {MAX_FILE_BYTES // 2**20} MB; split it into smaller reports"


def nfc(name: str) -> str:
    """A report's name in one spelling, Unicode's NFC: a Mac (its file system,
    Safari's uploads) writes ``é`` as ``e`` and a combining accent (NFD), and
    the two spellings of one name would be two reports that look the same.

    >>> nfc("cafe\u0301.txt") == "caf\u00e9.txt"
    True
    """
    return unicodedata.normalize("NFC", name)


def base_name(filename: str) -> str:
    """The last part of a client's file name, as the corpus keeps it: never a
    path, in NFC (:func:`nfc`).

    >>> base_name("C:\\\\Users\\\\a\\\\报告.txt"), base_name("../../etc/passwd")
    ('报告.txt', 'passwd')
    """
    return nfc(Path(filename.replace("\\", "/")).name)


def source_name(name: str) -> str | None:
    """A report's name as ``add`` stored it, however it is written; None when it
    leads out of the corpus.

    >>> source_name("./报告.txt"), source_name("sub/../报告.txt"), source_name("报告.txt/.")
    ('报告.txt', '报告.txt', '报告.txt')
    >>> source_name("../x.txt"), source_name("sub/x.md"), source_name("/x.md")
    (None, 'sub/x.md', 'x.md')
    """
    normal = posixpath.normpath(name.replace("\\", "/")).lstrip("/")
    if normal in ("", ".", "..") or normal.startswith("../"):
        return None
    return normal


def name_problem(name: str) -> UnsupportedFile | None:
    """Why ``name`` cannot be a report's file name, or None; one rule for the CLI and the web.

    >>> name_problem("报告.txt") is None, name_problem(".hidden.txt").code
    (True, 'name_hidden')
    """
    if not name:
        return UnsupportedFile("(no name)", "the file has no name", code="bad_name")
    if name.startswith("."):
        return UnsupportedFile(name, "not a valid file name: it starts with a dot",
                               code="name_hidden")
    if any("\ud800" <= ch <= "\udfff" for ch in name):
        # Bytes that are not UTF-8 (a GBK file name): no page or JSON could show it.
        return UnsupportedFile(name.encode("utf-8", "replace").decode("utf-8"),
                               "not a valid file name: it is not UTF-8; rename the file",
                               code="name_encoding")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return UnsupportedFile(name, "not a valid file name: it holds control characters",
                               code="name_control")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return UnsupportedFile(name, f"not a valid file name: longer than {MAX_NAME_BYTES} bytes",
                               code="name_too_long")
    return None


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
        if entry.name.startswith("."):
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
            shown = name.encode("utf-8", "replace").decode("utf-8")
            if entry.is_symlink():
                if is_supported(entry.name):
                    skipped.append(UnsupportedFile(
                        shown, "a symbolic link; zhsearch indexes only files in the corpus "
                               "folder itself", code="symlink"))
                continue
            if shown != name:
                skipped.append(UnsupportedFile(
                    shown, "not a valid file name: it is not UTF-8; rename the file",
                    code="name_encoding"))
                continue
            if entry.is_file() and is_supported(entry.name):
                found[name] = Path(entry.path)
        return found

    def path_of(self, source: str) -> Path | None:
        """The path of the report called ``source``, or None when that name
        leads out of the folder (``../``) or to the folder itself."""
        path = self.folder / source.replace("\\", "/").strip("/")
        folder = self.folder.resolve()
        resolved = path.resolve()
        if not resolved.is_relative_to(folder) or resolved == folder:
            return None
        return path
