"""One exception family for everything the library refuses, each with a stable code.

The library raises these; each front door translates them once, from the
catalogue of :mod:`indexer.messages`: the CLI into a one-line
``click.ClickException`` (the English message and its hint, or the Chinese
of :attr:`ZhsearchError.code`), the web into a Chinese page or a JSON error
with the class's HTTP :attr:`~ZhsearchError.status` (Datasette's habit: the
status lives on the exception class). Scripts may rely on the codes, never
on the wording.

>>> error = QueryError("page must be 1 or more", code="bad_page")
>>> error.code, str(error)
('bad_page', 'page must be 1 or more')
>>> UnsupportedFile("a.doc", "an old binary Word .doc file", code="old_word").code
'old_word'
>>> error.status, NotInCorpus("a.txt").status, IndexLocked("busy").status
(400, 404, 503)
"""

from __future__ import annotations

from indexer.messages import ERRORS, HINTS

# Every code the library can raise or report, with what it means: the keys
# of the one message catalogue, which holds the English and the Chinese.
CODES: dict[str, str] = {code: text.en for code, text in ERRORS.items()}


class ZhsearchError(Exception):
    """Base of every refusal: ``str()`` is a one-line English message,
    :attr:`code` a key of :data:`CODES`, :attr:`hint` what the user can do
    (the catalogue's for the code, unless given),
    :attr:`details` the values a translation may quote, :attr:`status` the
    HTTP status of a web request it refuses: 400, the request is wrong; 404,
    what it names is not there; 503, the server cannot answer it now."""

    default_code = "damaged_file"
    status = 400
    # Seconds after which the same request may well succeed (HTTP Retry-After);
    # None: asking again changes nothing.
    retry_after: int | None = None

    def __init__(self, message: str, *, code: str | None = None, hint: str = "",
                 **details: object):
        super().__init__(message)
        self.code = code or self.default_code
        if self.code not in CODES:
            raise ValueError(f"unknown error code {self.code!r}")
        # What to do, from the catalogue by code unless the raiser knows better.
        self.hint = hint or (HINTS[self.code].en if self.code in HINTS else "")
        # Values a translated message may quote (``{value}``), never needed to act on.
        self.details = details


class UnsupportedFile(ZhsearchError, ValueError):
    """A file that zhsearch cannot read; :attr:`reason` is a one-line reason."""

    default_code = "damaged_file"

    def __init__(self, name: str, reason: str, code: str | None = None):
        super().__init__(f"{name}: {reason}", code=code)
        self.name = name
        self.reason = reason


class IndexLocked(ZhsearchError, RuntimeError):
    """Another process is writing to the index and did not finish in time."""

    default_code = "index_locked"
    status = 503


class IndexChanged(ZhsearchError, RuntimeError):
    """A read of the index met files that other processes' commits had just
    merged away, and so did its one retry on the newest commit; the index
    itself opens. The next request reads a newer commit."""

    default_code = "index_changed"
    status = 503
    retry_after = 1


class IndexCorrupt(ZhsearchError, RuntimeError):
    """The index directory exists but cannot be opened."""

    default_code = "index_corrupt"
    status = 503

    @classmethod
    def damaged(cls, folder: object, error: BaseException) -> IndexCorrupt:
        """Whoosh failed reading a segment file of the index in ``folder``.

        >>> str(IndexCorrupt.damaged("/x/index", EOFError("short read")))
        'the index in /x/index is damaged: EOFError: short read'
        """
        return cls(f"the index in {folder} is damaged: {type(error).__name__}: {error}")


class IndexUnwritable(ZhsearchError, OSError):
    """The index cannot be written: a read-only folder or a full disk. Nothing
    of the failed write is left behind; the index answers as before."""

    default_code = "index_read_only"
    status = 503


class NoCorpus(ZhsearchError, FileNotFoundError):
    """The corpus folder is missing or unreadable: an unmounted share or a
    mistyped ``--corpus``. Never read as a corpus without reports, which
    would remove every report from the index."""

    default_code = "no_corpus"
    status = 503

    def __init__(self, folder: object, reason: str = "no such folder"):
        super().__init__(f"cannot read the corpus folder {folder}: {reason}", value=str(folder))
        self.folder = folder


class TooManyRemovals(ZhsearchError, RuntimeError):
    """A sync would remove every indexed report, or most of them, and the
    user has not confirmed it (rsync's ``--max-delete`` is the model)."""

    default_code = "too_many_removals"
    status = 503

    def __init__(self, folder: object, removed: int, indexed: int):
        held = indexed - removed
        super().__init__(
            f"the corpus folder {folder} holds {held} of the {indexed} indexed reports; "
            f"syncing would remove {removed} of them from the index",
            value=str(folder), removed=removed, indexed=indexed)
        self.removed = removed
        self.indexed = indexed


class NotInCorpus(ZhsearchError, FileNotFoundError):
    """A report name that the corpus does not hold."""

    default_code = "not_in_corpus"
    status = 404

    def __init__(self, name: str):
        super().__init__(f"not in the corpus: {name}", value=name)
        self.name = name


class NoSuchVersion(ZhsearchError, FileNotFoundError):
    """A report, or a version of it, that ``.versions`` does not hold."""

    default_code = "no_such_version"
    status = 404

    def __init__(self, name: str, number: int | None = None):
        which = f"version {number} of {name}" if number is not None else f"any version of {name}"
        super().__init__(f"no kept {which}", value=name)
        self.name = name


class BadSetting(ZhsearchError, ValueError):
    """An environment variable of :mod:`indexer.settings` holds a value that
    cannot be used (``ZHSEARCH_MAX_UPLOAD_MB=abc``): refused where it is read,
    naming the variable, not a traceback."""

    default_code = "bad_setting"
    status = 500


class QueryError(ZhsearchError, ValueError):
    """A search request that cannot be run as given; ``str()`` says why."""

    default_code = "empty_query"


class UnknownId(ZhsearchError, LookupError):
    """An id the index does not hold (:attr:`ident`): the library raises it,
    never returns None, so no front door words "unknown" itself."""

    status = 404
    message = "no such id: {}"

    def __init__(self, ident: str):
        super().__init__(self.message.format(ident), value=ident)
        self.ident = ident


class UnknownArticle(UnknownId):
    """An article id that the index does not hold."""

    default_code = "unknown_article"
    message = "no article {!r} is indexed"


class UnknownPassage(UnknownId):
    """A passage id that the index does not hold."""

    default_code = "unknown_passage"
    message = "no passage with the id {}"
