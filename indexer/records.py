"""The index's schema and the typed records the library hands out.

One place names every stored field: the schema, the ids of passages, files
and articles, the hashes, and the records of a file, of what happened to a
file, of a problem ``check`` found, of a sync and of the corpus. The search's
records (a hit with its snippet, a result, an article) are built from the
same stored fields; ``to_json()`` gives the public JSON, and each front door
decides how to render the rest.

>>> file_key("000_37542822596f49c6.txt")
'6ebb69ef47d6'
>>> sorted(PASSAGE_FIELDS) == sorted(set(PASSAGE_FIELDS))
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from functools import cache
from operator import attrgetter
from typing import Any

from whoosh.fields import ID, STORED, FieldType, Schema

from indexer.analysis import ChineseTextField
from indexer.errors import UnsupportedFile
from indexer.highlight import Snippet

# 2: characters simplified one by one; fewer indexed fields. 3: titles from
# file names, digest lines (indexer/readers/articles.py): files are read anew.
# 4: default-ignorable characters dropped, Kangxi radicals folded (issue 19).
SCHEMA_VERSION = 4
FILE, META = "file", "meta"  # the kinds of the two records that are not passages


@dataclass(frozen=True)
class StoredField:
    """One stored field: its name in the index, its type in the schema, and
    its name and value-when-absent in the records and the JSON."""

    stored: str
    make: Callable[[], FieldType]  # a new field object for each schema
    key: str = ""  # its name in the records and the JSON, when not ``stored``
    default: Any = None  # what a passage stored without it reads as

    @property
    def name(self) -> str:
        return self.key or self.stored


# Every stored field of a passage, in the schema's order: the one list the
# schema, the writer (:func:`passage_document`) and every record built from a
# stored passage (:func:`stored_values`) read. Renaming a stored field
# changes the index: every existing index would have to be rebuilt.
PASSAGE: tuple[StoredField, ...] = (
    StoredField("id", lambda: ID(stored=True, unique=True)),
    StoredField("kind", lambda: ID(stored=True)),
    StoredField("source", lambda: ID(stored=True, sortable=True)),
    # Read, never searched: an indexed ID costs every passage a posting.
    StoredField("file_hash", STORED),
    StoredField("article", lambda: ID(stored=True)),
    StoredField("title", STORED, default=""),
    StoredField("section", STORED, default=""),
    StoredField("byline", STORED, default=""),
    StoredField("paragraph", STORED),  # a numeric field would index 8 trie terms per passage
    StoredField("page", STORED),
    StoredField("date", lambda: ID(stored=True, sortable=True)),
    StoredField("content", lambda: ChineseTextField(stored=True), key="text", default=""),
)
# The fields only a file's record has (``kind=file``; the meta record uses ``info``).
FILE_ONLY: tuple[StoredField, ...] = (
    StoredField("size", STORED), StoredField("mtime", STORED), StoredField("info", STORED))

# What a kept passage must still agree on with the new one; the stored
# fields a passage has besides its id, source and file hash.
PASSAGE_FIELDS = tuple(f.stored for f in PASSAGE if f.stored not in ("id", "source", "file_hash"))


def build_schema() -> Schema:
    """The index's schema: every field of :data:`PASSAGE`, then :data:`FILE_ONLY`.

    >>> build_schema().names()[:4], PASSAGE_FIELDS[-1]
    (['article', 'byline', 'content', 'date'], 'content')
    """
    return Schema(**{f.stored: f.make() for f in PASSAGE + FILE_ONLY})


# The names passage_document requires, made once: it runs for every passage written.
_PASSAGE_NAMES = frozenset(f.name for f in PASSAGE)


def passage_document(**values: Any) -> dict[str, Any]:
    """A passage's stored fields from its values named as the records name
    them (``text`` for ``content``); every field of :data:`PASSAGE` must be
    given once. A ``Kind`` is stored as its plain string: a member would be
    pickled as the enum, and stock Whoosh could no longer read the index.

    >>> from indexer.document import Kind
    >>> doc = passage_document(id="k-1-1", kind=Kind.TITLE, source="a.txt", file_hash="h",
    ...     article="k-1", title="标题", section="", byline="", paragraph=1, page=None,
    ...     date=None, text="标题")
    >>> doc["content"], type(doc["kind"]) is str
    ('标题', True)
    """
    if values.keys() != _PASSAGE_NAMES:
        raise TypeError(f"passage fields missing {sorted(_PASSAGE_NAMES - values.keys())}, "
                        f"unknown {sorted(values.keys() - _PASSAGE_NAMES)}")
    return {f.stored: str(value) if isinstance(value, StrEnum) else value
            for f in PASSAGE for value in (values[f.name],)}


def stored_values(record: type, doc: Mapping[str, Any]) -> dict[str, Any]:
    """The values of a stored passage that ``record`` (a dataclass) has a field
    for, by the record's names, each absent one as its default.

    >>> stored_values(SameStory, {"id": "k-1-1", "source": "a.txt", "content": "正文"})
    {'id': 'k-1-1', 'source': 'a.txt', 'article': None, 'title': '', 'paragraph': None, 'date': None}
    """
    get = doc.get
    return {name: get(stored, default) for name, stored, default in _stored_in(record)}


@cache
def _stored_in(record: type) -> tuple[tuple[str, str, Any], ...]:
    """The fields of :data:`PASSAGE` that ``record`` has, as (name, stored
    name, default); once per class: ``Hit.from_stored`` runs for every hit."""
    names = {f.name for f in fields(record)}
    return tuple((f.name, f.stored, f.default) for f in PASSAGE if f.name in names)


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_key(source: str) -> str:
    """A short stable id for a corpus file, used in passage and article ids."""
    return hashlib.blake2b(source.encode("utf-8"), digest_size=6).hexdigest()


def file_record_id(source: str) -> str:
    return f"{FILE}:{source}"


@dataclass
class FileRecord:
    """What the index records of one corpus file."""

    source: str
    file_hash: str
    size: int
    mtime: float
    date: str | None = None
    articles: int = 0
    passages: int = 0

    @classmethod
    def from_stored(cls, doc: dict) -> FileRecord:
        """The record from the stored fields of a file's ``kind=file`` document."""
        info = json.loads(doc.get("info") or "{}")
        return cls(doc["source"], doc["file_hash"], doc["size"], doc["mtime"], doc.get("date"),
                   info.get("articles", 0), info.get("passages", 0))


class Status(StrEnum):
    """What happened to one file in an ``add``, ``index`` or upload; the value
    is the word the CLI prints (``added 报告.txt``).

    >>> [str(s) for s in Status]
    ['added', 'updated', 'unchanged', 'removed', 'refused']
    """

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    REFUSED = "refused"


# After these the index holds something new (searchers should look again).
CHANGES = frozenset({Status.ADDED, Status.UPDATED, Status.REMOVED})


@dataclass
class FileOutcome:
    """What happened to one file in an ``add``, ``index`` or upload."""

    name: str
    status: Status
    passages: int = 0
    reason: str = ""  # why it was refused, in English
    code: str = ""  # the stable code of that reason (indexer.errors.CODES)
    renamed_from: str = ""  # the name it came with, when another file of the batch had it

    @classmethod
    def refused(cls, error: UnsupportedFile) -> FileOutcome:
        return cls(error.name, Status.REFUSED, reason=error.reason, code=error.code)


@dataclass
class Problem:
    """Something ``check`` found where the index and the corpus disagree."""

    source: str
    description: str


@dataclass
class SyncReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def refused(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == Status.REFUSED]

    @property
    def changed(self) -> bool:
        """True when the index holds something new (searchers should look again)."""
        return any(o.status in CHANGES for o in self.outcomes)


@dataclass
class CorpusSummary:
    """What the index holds, as ``zhsearch stats`` and the home page show it.

    Counted from the file records, so the two agree even when ``check``
    finds orphan passages.
    """

    files: int
    articles: int
    passages: int
    sources: list[str]
    first_date: str | None
    last_date: str | None

    @classmethod
    def of(cls, records: dict[str, FileRecord]) -> CorpusSummary:
        dates = sorted(r.date for r in records.values() if r.date)
        return cls(len(records), sum(r.articles for r in records.values()),
                   sum(r.passages for r in records.values()), sorted(records),
                   dates[0] if dates else None, dates[-1] if dates else None)

    def to_json(self) -> dict:
        return asdict(self)


# Characters of a passage's text in one hit of the search JSON; readers cut
# passages at 5,000 (indexer/readers/limits.py), so only an older index has longer.
MAX_HIT_TEXT = 5_000


# Copies listed under one folded hit (``same_as``); ``same`` counts them all.
# A formula sentence can recur in hundreds of reports (145 in the news).
MAX_SAME_AS = 20


@dataclass
class SameStory:
    """Another report's copy of a hit's passage, folded into the hit."""

    id: str
    source: str
    title: str
    date: str | None
    article: str | None
    paragraph: int | None

    @classmethod
    def from_stored(cls, doc: Mapping[str, Any]) -> SameStory:
        return cls(**stored_values(cls, doc))

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Hit:
    """One matching passage of a search."""

    id: str
    source: str
    title: str
    section: str
    date: str | None
    paragraph: int | None
    score: float | None  # None when sorted by date: no relevance is computed then
    text: str
    snippet: Snippet
    kind: str | None
    article: str | None
    page: int | None
    more: int | None = None  # grouped by article: its other matching passages
    same: int | None = None  # folded: how many copies of it other reports carry
    same_as: list[SameStory] | None = None  # folded: the first MAX_SAME_AS of them

    @property
    def highlight(self) -> str:
        """The snippet as escaped HTML with ``<mark>`` tags (the JSON's ``highlight``)."""
        return self.snippet.html()

    @classmethod
    def from_stored(cls, doc: Mapping[str, Any], snippet: Snippet, score: float | None) -> Hit:
        return cls(**stored_values(cls, doc), snippet=snippet, score=score)

    def to_json(self) -> dict:
        """The hit's JSON, its keys in the order of the fields above (a public
        contract: the JSON keeps that order); the snippet is ``highlight``.
        ``text`` is cut to :data:`MAX_HIT_TEXT` characters and
        ``text_truncated`` says whether it was (a passage of 20 MB, indexed before
        readers cut long paragraphs, answered each search with 21 MB of JSON)."""
        truncated = len(self.text) > MAX_HIT_TEXT
        data: dict[str, object] = dict(zip(_HIT_KEYS, _hit_values(self)))
        if truncated:
            data["text"] = self.text[:MAX_HIT_TEXT]
        data["text_truncated"] = truncated
        if self.more is not None:
            data["more"] = self.more
        if self.same is not None:
            data["same"] = self.same
            data["same_as"] = [copy.to_json() for copy in self.same_as or []]
        return data


# The keys of a hit's JSON, in order: its fields, the snippet as its HTML,
# without those it has only when grouped or folded.
_HIT_KEYS = tuple("highlight" if f.name == "snippet" else f.name for f in fields(Hit)
                  if f.name not in ("more", "same", "same_as"))
_hit_values = attrgetter(*_HIT_KEYS)


@dataclass
class SearchResult:
    """A page of hits, the exact total, and what the search made of the query."""

    query: str
    page: int
    limit: int
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    took_ms: float = 0.0
    suggestion: str | None = None  # "did you mean", when nothing matched
    relaxed: bool = False  # ranked by shared words: no passage held them all
    # Counts over every match (every article when grouped), by year and source.
    facets: dict[str, dict[str, int]] = field(
        default_factory=lambda: {"year": {}, "source": {}})
    grouped: str | None = None  # "article": one hit per article, total counts articles
    folded: str | None = None  # "same": one hit per story, total counts stories
    passages: int = 0  # every matching passage (the total, unless grouped or folded)
    # Only the query's first 1,000 characters or 32 terms were searched.
    query_truncated: bool = False

    @property
    def first(self) -> int:
        """The rank of the first hit on this page (1-based)."""
        return (self.page - 1) * self.limit + 1 if self.limit else 1

    def to_json(self) -> dict:
        """The object of ``zhsearch search --json`` and ``/api/search``."""
        return {"query": self.query, "total": self.total, "page": self.page,
                "limit": self.limit, "took_ms": self.took_ms,
                "hits": [hit.to_json() for hit in self.hits],
                "suggestion": self.suggestion, "relaxed": self.relaxed,
                "facets": self.facets, "grouped": self.grouped,
                **({"folded": self.folded} if self.folded else {}),
                **({"passages": self.passages} if self.grouped or self.folded else {}),
                **({"query_truncated": True} if self.query_truncated else {})}


@dataclass
class ArticlePassage:
    """One passage of an article as ``show`` prints it; the fields before
    ``spans`` are the JSON's keys, in its order."""

    id: str
    paragraph: int
    kind: str
    section: str
    page: int | None  # the PDF page it is printed on
    text: str
    spans: tuple[tuple[int, int], ...]  # every match of the query, as character ranges

    @classmethod
    def from_stored(cls, doc: Mapping[str, Any],
                    spans: tuple[tuple[int, int], ...] = ()) -> ArticlePassage:
        return cls(**stored_values(cls, doc), spans=spans)

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "spans"}

    @property
    def html(self) -> str:
        """The passage as escaped HTML, every match of the query marked."""
        return Snippet(self.text, ((0, len(self.text)),), self.spans).html()


@dataclass
class ArticleView:
    """A whole article, its passages in order."""

    id: str
    title: str
    source: str
    date: str | None
    byline: str
    passages: list[ArticlePassage]

    def to_json(self) -> dict:
        """The object of ``zhsearch show --json``: the article, its passages in order."""
        return {"id": self.id, "title": self.title, "source": self.source, "date": self.date,
                "byline": self.byline,
                "passages": [p.to_json() for p in self.passages]}


@dataclass
class ReportSummary:
    """One report of the corpus as the report list shows it."""

    source: str
    date: str | None
    units: list[str]  # the units its article titles name (``XX县总工会：…``), in order
    articles: int
    passages: int
    size: int  # bytes of the original file

    @property
    def year(self) -> str | None:
        return self.date[:4] if self.date else None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class ReportList:
    """Every report, with how many there are per year and per unit."""

    reports: list[ReportSummary]
    years: dict[str, int]  # reports per year, oldest first; undated ones are not in it
    undated: int
    units: dict[str, int]  # reports per unit, most first

    @classmethod
    def of(cls, reports: list[ReportSummary]) -> ReportList:
        years: dict[str, int] = {}
        units: dict[str, int] = {}
        for report in reports:
            if report.year:
                years[report.year] = years.get(report.year, 0) + 1
            for unit in report.units:
                units[unit] = units.get(unit, 0) + 1
        return cls(reports, dict(sorted(years.items())),
                   sum(1 for r in reports if not r.date),
                   dict(sorted(units.items(), key=lambda item: (-item[1], item[0]))))

    @property
    def articles(self) -> int:
        return sum(r.articles for r in self.reports)

    @property
    def passages(self) -> int:
        return sum(r.passages for r in self.reports)

    def to_json(self) -> dict:
        """The object of ``zhsearch reports --json``."""
        return {"total": len(self.reports), "articles": self.articles,
                "passages": self.passages, "years": self.years, "undated": self.undated,
                "units": self.units, "reports": [r.to_json() for r in self.reports]}


@dataclass
class ArticleSummary:
    """One article of a report: its id (for ``show`` and ``/doc/<id>``), title, size."""

    id: str
    title: str
    passages: int
    pages: list[int]  # the PDF pages it is printed on; empty for other formats

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class ReportView:
    """One report and its articles in order."""

    summary: ReportSummary
    articles: list[ArticleSummary]

    def to_json(self) -> dict:
        return {"report": self.summary.to_json(), "articles": [a.to_json() for a in self.articles]}


@dataclass
class ExportRow:
    """One hit as ``zhsearch export`` writes it."""

    source: str
    title: str
    section: str
    date: str | None
    paragraph: int | None
    page: int | None
    text: str

    @classmethod
    def of(cls, hit: Hit) -> ExportRow:
        return cls(**{f.name: getattr(hit, f.name) for f in fields(cls)})

    def to_json(self) -> dict:
        return asdict(self)


# The columns of an export, in order: the fields of ExportRow.
EXPORT_FIELDS = tuple(f.name for f in fields(ExportRow))
