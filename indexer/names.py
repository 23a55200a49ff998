"""Every rule about a report's file name, in one place.

A report is known by its path inside the corpus folder, ``/`` between the
folders (``简报/2023/05.txt``), in Unicode's NFC spelling. Names come from
four doors and each door reads them by the same rules here:

- an upload (the web): only the last part of the client's name is kept
  (:func:`base_name`); a browser may send a Windows path;
- ``zhsearch add``: a folder's reports keep their folders
  (:func:`corpus_name`), and a name that leads out with ``..`` is refused
  (:func:`path_problem`);
- a name the user types to find a report (``remove``, ``versions``,
  ``restore``): read leniently, ``./X``, ``sub/../X`` and ``X/.`` are ``X``
  (:func:`source_name`); only a name that leads out is no name;
- the corpus folder itself (``index``): hidden files and folders are not
  reports (:func:`is_hidden`), a symbolic link is never followed
  (:func:`symlink_refused`) and a name that is not UTF-8 is left out
  (:func:`encoding_problem`).

The differences are deliberate: a name to be written is refused when it is
odd, so that nothing lands outside the corpus or under a name no page can
show; a name to be found is normalised first, so that the spelling the user
typed finds the report that ``add`` stored. Backslashes are folder
separators everywhere (:func:`slashes`): a Windows client's ``a\\b.txt`` is
``a/b.txt``, never a file whose name holds a backslash.
"""

from __future__ import annotations

import posixpath
import unicodedata
from pathlib import Path, PurePosixPath

from indexer.errors import UnsupportedFile

MAX_NAME_BYTES = 255  # what Linux file systems allow for one name

# One wording for every symbolic link refused, whether found in the corpus
# folder by ``index`` or given to ``add``: the same code, the same advice.
SYMLINK = "a symbolic link, which zhsearch never follows; add the file it points to"
NOT_UTF8 = "not a valid file name: it is not UTF-8; rename the file"


def slashes(name: str) -> str:
    """``name`` with backslashes read as folder separators.

    >>> slashes("C:\\\\Users\\\\a\\\\报告.txt")
    'C:/Users/a/报告.txt'
    """
    return name.replace("\\", "/")


def nfc(name: str) -> str:
    """A report's name in one spelling, Unicode's NFC: a Mac (its file system,
    Safari's uploads) writes ``é`` as ``e`` and a combining accent (NFD), and
    the two spellings of one name would be two reports that look the same.

    >>> nfc("cafe\u0301.txt") == "caf\u00e9.txt"
    True
    """
    return unicodedata.normalize("NFC", name)


def is_hidden(name: str) -> bool:
    """True when a part of ``name`` starts with a dot: not a report (the
    corpus keeps its ``.versions`` there; editors leave ``.~lock`` files).

    >>> is_hidden(".versions/a.txt/1"), is_hidden("简报/.草稿.txt"), is_hidden("简报/05.txt")
    (True, True, False)
    """
    return any(part.startswith(".") for part in slashes(name).split("/"))


def shown(name: str) -> str:
    """``name`` as a page or JSON can show it: bytes that were not UTF-8
    (Python's surrogate escapes) become ``?``-like replacement marks.

    >>> shown("a\\udcb1.txt")
    'a?.txt'
    """
    return name.encode("utf-8", "replace").decode("utf-8")


def base_name(filename: str) -> str:
    """The last part of a client's file name, as an upload keeps it: never a
    path, in NFC (:func:`nfc`).

    >>> base_name("C:\\\\Users\\\\a\\\\报告.txt"), base_name("../../etc/passwd")
    ('报告.txt', 'passwd')
    """
    return nfc(PurePosixPath(slashes(filename)).name)


def corpus_name(name: str) -> str:
    """A name inside the corpus, folders kept, in NFC, as ``add`` writes it.
    ``..`` is kept, for :func:`path_problem` to refuse.

    >>> corpus_name("a\\\\b/./报告.txt"), corpus_name("/简报//05.txt"), corpus_name("a/../x")
    ('a/b/报告.txt', '简报/05.txt', 'a/../x')
    """
    parts = [p for p in slashes(name).split("/") if p not in ("", ".")]
    return nfc("/".join(parts))


def source_name(name: str) -> str | None:
    """A report's name as ``add`` stored it, however it is typed; None when it
    leads out of the corpus.

    >>> source_name("./报告.txt"), source_name("sub/../报告.txt"), source_name("报告.txt/.")
    ('报告.txt', '报告.txt', '报告.txt')
    >>> source_name("../x.txt"), source_name("sub\\\\x.md"), source_name("/x.md")
    (None, 'sub/x.md', 'x.md')
    """
    normal = posixpath.normpath(slashes(name)).lstrip("/")
    if normal in ("", ".", "..") or normal.startswith("../"):
        return None
    return normal


def numbered_name(name: str, n: int) -> str:
    """The ``n``-th name for a file called ``name``: two files of one add or
    upload with the same name are both kept, the later one numbered.

    >>> numbered_name("简报/报告.txt", 2)
    '简报/报告 (2).txt'
    """
    path = PurePosixPath(name)
    return str(path.with_name(f"{path.stem} ({n}){path.suffix}"))


def title_stem(name: str) -> str:
    """The last part of ``name`` without its suffix, or ``""`` for a hidden file.

    >>> title_stem("cec17\\\\车撞上摩托车.txt"), title_stem(".hidden.txt")
    ('车撞上摩托车', '')
    """
    stem = PurePosixPath(slashes(name)).stem.strip()
    return "" if stem.startswith(".") else stem


def encoding_problem(name: str) -> UnsupportedFile | None:
    """A refusal when ``name`` holds bytes that are not UTF-8 (a GBK file
    name read by Python as surrogate escapes): no page or JSON could show it.

    >>> encoding_problem("a\\udcb1.txt").code, encoding_problem("报告.txt")
    ('name_encoding', None)
    """
    if any("\ud800" <= ch <= "\udfff" for ch in name):
        return UnsupportedFile(shown(name), NOT_UTF8, code="name_encoding")
    return None


def name_problem(name: str) -> UnsupportedFile | None:
    """Why ``name``, one part without folders, cannot be a report's file
    name, or None; one rule for the CLI and the web.

    >>> name_problem("报告.txt") is None, name_problem(".hidden.txt").code
    (True, 'name_hidden')
    >>> name_problem("a\\x07.txt").code, name_problem("长" * 86 + ".txt").code
    ('name_control', 'name_too_long')
    """
    if not name:
        return UnsupportedFile("(no name)", "the file has no name", code="bad_name")
    if name.startswith("."):
        return UnsupportedFile(name, "not a valid file name: it starts with a dot",
                               code="name_hidden")
    problem = encoding_problem(name)
    if problem:
        return problem
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return UnsupportedFile(name, "not a valid file name: it holds control characters",
                               code="name_control")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return UnsupportedFile(name, f"not a valid file name: longer than {MAX_NAME_BYTES} bytes",
                               code="name_too_long")
    return None


def path_problem(name: str) -> UnsupportedFile | None:
    """Why ``name`` (a :func:`corpus_name`, maybe with folders) cannot be a
    report's name in the corpus: :func:`name_problem` of each part, and
    never a way out of the corpus.

    >>> path_problem("简报/05.txt") is None, path_problem("a/../../x.txt").code
    (True, 'bad_name')
    >>> path_problem("简报/.git/x.txt").reason
    'not a valid file name: it starts with a dot'
    """
    if ".." in name.split("/"):
        return UnsupportedFile(name, "not a valid file name: it leads out of the corpus",
                               code="bad_name")
    for part in name.split("/") or [""]:
        problem = name_problem(part)
        if problem:
            return UnsupportedFile(name, problem.reason, code=problem.code)
    return None


def symlink_refused(name: str) -> UnsupportedFile:
    """The refusal of a symbolic link: never followed, since a link could make
    any file on the machine searchable (``add link.txt`` once copied
    ``/etc/passwd`` into the corpus).

    >>> symlink_refused("link.txt").code
    'symlink'
    """
    return UnsupportedFile(shown(name), SYMLINK, code="symlink")


def path_in(folder: Path, source: str) -> Path | None:
    """The path of the report called ``source`` in ``folder``, or None when
    that name leads out of the folder (``../``, a link) or to the folder itself.

    >>> path_in(Path("/srv/corpus"), "a\\\\b.txt"), path_in(Path("/srv/corpus"), "../x")
    (PosixPath('/srv/corpus/a/b.txt'), None)
    """
    path = folder / slashes(source).strip("/")
    inside = folder.resolve()
    resolved = path.resolve()
    if not resolved.is_relative_to(inside) or resolved == inside:
        return None
    return path
