"""One exception family for everything the library refuses, each with a stable code.

The library raises these; each front door translates them once: the CLI into a
one-line ``click.ClickException`` (the English message and its hint), the web
into a Chinese page or a JSON error chosen by :attr:`ZhsearchError.code`.
Scripts may rely on the codes, never on the wording.

>>> error = QueryError("page must be 1 or more", code="bad_page")
>>> error.code, str(error)
('bad_page', 'page must be 1 or more')
>>> UnsupportedFile("a.doc", "an old binary Word .doc file", code="old_word").code
'old_word'
"""

from __future__ import annotations

# Every code the library can raise or report, with what it means. The web's
# Chinese texts are keyed by these (a test checks that none is missing).
CODES: dict[str, str] = {
    # A report file that is refused (UnsupportedFile, FileOutcome.code).
    "unsupported_format": "the file's suffix is not one zhsearch reads",
    "empty_file": "the file is empty",
    "no_text": "nothing searchable in the file",
    "binary_file": "the file looks binary, not text",
    "unknown_encoding": "the text encoding cannot be told",
    "damaged_file": "the file is damaged or its library could not read it",
    "old_word": "an old binary Word .doc file",
    "damaged_docx": "a .docx that is not a complete zip or has broken XML",
    "not_word": "a zip or Office file that is not a Word document",
    "not_pdf": "a .pdf file without a PDF header",
    "pdf_password": "a password-protected PDF",
    "pdf_encrypted": "a PDF encrypted in a way that cannot be opened",
    "pdf_no_unicode": "a PDF whose fonts have no Unicode map",
    "pdf_scanned": "a scanned PDF with no text layer",
    "bad_name": "the file has no name",
    "name_hidden": "the file name starts with a dot",
    "name_control": "the file name holds control characters",
    "name_encoding": "the file name is not UTF-8",
    "cannot_read": "the file cannot be read from the corpus folder",
    "name_too_long": "the file name is longer than 255 bytes",
    "no_such_file": "the file to add does not exist",
    "too_large": "the file is larger than the size limit",
    "cannot_write": "the file cannot be written into the corpus folder",
    "same_name_in_batch": "a later file of the same batch has the same name",
    "symlink": "a symbolic link, which add does not follow",
    # A report refused by a reader limit (indexer/readers/limits.py).
    "too_much_text": "more text than any report has",
    "line_too_long": "a text line longer than any report's",
    "too_many_lines": "a text with more lines than any report has",
    "too_many_paragraphs": "more paragraphs than any report has",
    "too_many_elements": "an HTML page with more elements than any article page",
    "inflates_too_much": "a .docx whose zip parts inflate past the limit",
    "too_many_parts": "a .docx zip with more parts than any document",
    "too_many_runs": "a .docx with more runs (pieces of formatted text) than any report",
    "too_many_pages": "a PDF with more pages than the limit",
    "page_too_large": "a PDF page with more drawing, text operators or characters than any page",
    "read_timeout": "reading the file took longer than the time limit",
    "read_memory": "reading the file needed more memory than the limit",
    "read_budget": "the files of one add or upload used up the time they may take to read",
    # The index.
    "index_locked": "another process is writing the index",
    "index_corrupt": "the index cannot be opened",
    "no_index": "there is no index yet",
    "bad_dictionary": "the corpus's userdict.dic cannot be read (too large, too many lines, "
                      "a word too long, a frequency too large, not UTF-8)",
    "bad_synonyms": "the corpus's synonyms.dic cannot be used (too large, too many lines, "
                    "a group or a word's synonyms past the bound, not UTF-8)",
    "index_read_only": "the index folder cannot be written (read-only, no permission)",
    "disk_full": "the disk of the index folder is full",
    # The corpus.
    "no_corpus": "the corpus folder does not exist, is not a folder or cannot be read",
    "too_many_removals": "a sync would remove most of the indexed reports (unconfirmed)",
    "not_in_corpus": "no such report in the corpus",
    "unknown_article": "no article with this id is indexed",
    "no_such_version": "no such kept version of a report",
    # A search request.
    "empty_query": "the query is empty",
    "bad_page": "the page number is not 1 or more",
    "bad_limit": "the limit is negative",
    "bad_sort": "the sort order is unknown",
    "bad_group": "the grouping is unknown (only article)",
    "bad_fold": "the folding is unknown (only same)",
    "bad_scope": "the scope is unknown (all or title)",
    "bad_date": "a date is not a valid YYYY-MM-DD date",
    "bad_date_range": "the start date is after the end date",
    "unknown_source": "the source filter names no indexed report",
    "too_many_hits": "more hits than one export may hold",
    "bad_format": "the export format is unknown",
}


class ZhsearchError(Exception):
    """Base of every refusal: ``str()`` is a one-line English message,
    :attr:`code` a key of :data:`CODES`, :attr:`hint` what the user can do,
    :attr:`details` the values a translation may quote."""

    default_code = "damaged_file"

    def __init__(self, message: str, *, code: str | None = None, hint: str = "",
                 **details: object):
        super().__init__(message)
        self.code = code or self.default_code
        if self.code not in CODES:
            raise ValueError(f"unknown error code {self.code!r}")
        self.hint = hint
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

    def __init__(self, message: str):
        super().__init__(message, hint="wait for the other zhsearch command to finish, then try again")


class IndexCorrupt(ZhsearchError, RuntimeError):
    """The index directory exists but cannot be opened."""

    default_code = "index_corrupt"

    def __init__(self, message: str, code: str | None = None):
        hint = ("run `zhsearch index` to build it" if code == "no_index"
                else "run `zhsearch index --rebuild` to rebuild it from the corpus")
        super().__init__(message, code=code, hint=hint)


class IndexUnwritable(ZhsearchError, OSError):
    """The index cannot be written: a read-only folder or a full disk. Nothing
    of the failed write is left behind; the index answers as before."""

    default_code = "index_read_only"

    def __init__(self, message: str, code: str | None = None):
        hint = ("free some disk space, then try again" if code == "disk_full"
                else "make the index folder writable, or point --index elsewhere")
        super().__init__(message, code=code, hint=hint)


class NoCorpus(ZhsearchError, FileNotFoundError):
    """The corpus folder is missing or unreadable: an unmounted share or a
    mistyped ``--corpus``. Never read as a corpus without reports, which
    would remove every report from the index."""

    default_code = "no_corpus"

    def __init__(self, folder: object, reason: str = "no such folder"):
        super().__init__(f"cannot read the corpus folder {folder}: {reason}",
                         hint="check --corpus (env ZHSEARCH_CORPUS) or mount the folder",
                         value=str(folder))
        self.folder = folder


class TooManyRemovals(ZhsearchError, RuntimeError):
    """A sync would remove every indexed report, or most of them, and the
    user has not confirmed it (rsync's ``--max-delete`` is the model)."""

    default_code = "too_many_removals"

    def __init__(self, folder: object, removed: int, indexed: int):
        held = indexed - removed
        super().__init__(
            f"the corpus folder {folder} holds {held} of the {indexed} indexed reports; "
            f"syncing would remove {removed} of them from the index",
            hint="if they were deleted on purpose, run `zhsearch index --allow-removals`; "
                 "otherwise check --corpus",
            value=str(folder), removed=removed, indexed=indexed)
        self.removed = removed
        self.indexed = indexed


class NotInCorpus(ZhsearchError, FileNotFoundError):
    """A report name that the corpus does not hold."""

    default_code = "not_in_corpus"

    def __init__(self, name: str):
        super().__init__(f"not in the corpus: {name}",
                         hint="`zhsearch stats --files` lists the files", value=name)
        self.name = name


class NoSuchVersion(ZhsearchError, FileNotFoundError):
    """A report, or a version of it, that ``.versions`` does not hold."""

    default_code = "no_such_version"

    def __init__(self, name: str, number: int | None = None):
        which = f"version {number} of {name}" if number is not None else f"any version of {name}"
        super().__init__(f"no kept {which}", hint="`zhsearch versions NAME` lists them",
                         value=name)
        self.name = name


class QueryError(ZhsearchError, ValueError):
    """A search request that cannot be run as given; ``str()`` says why."""

    default_code = "empty_query"


class UnknownArticle(ZhsearchError, LookupError):
    """An article id that the index does not hold."""

    default_code = "unknown_article"

    def __init__(self, article_id: str):
        super().__init__(f"no article {article_id!r} is indexed",
                         hint="`zhsearch search --json` gives each hit's article id", value=article_id)
        self.article_id = article_id
