"""The index's schema and the typed records the library hands out.

One place names every stored field: the schema, the ids of passages, files
and articles, the hashes, and the records of a file, of what happened to a
file, of a problem ``check`` found and of a sync. The search's records
(hits, snippets, results) come from these fields too.

>>> file_key("000_37542822596f49c6.txt")
'6ebb69ef47d6'
>>> sorted(PASSAGE_FIELDS) == sorted(set(PASSAGE_FIELDS))
True
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

from whoosh.fields import ID, STORED, Schema

from indexer.analysis import ChineseTextField
from indexer.errors import UnsupportedFile

SCHEMA_VERSION = 2  # 2: characters simplified one by one; fewer indexed fields
FILE, META = "file", "meta"  # the kinds of the two records that are not passages

# What a kept passage must still agree on with the new one; the stored
# fields a passage has besides its id, source and file hash.
PASSAGE_FIELDS = ("kind", "article", "title", "section", "byline", "paragraph", "page",
                  "date", "content")


def build_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        kind=ID(stored=True),
        source=ID(stored=True, sortable=True),
        file_hash=STORED,  # read, never searched: an indexed ID costs every passage a posting
        article=ID(stored=True),
        title=STORED,
        section=STORED,
        byline=STORED,
        paragraph=STORED,  # a numeric field would index 8 trie terms per passage
        page=STORED,
        date=ID(stored=True, sortable=True),
        content=ChineseTextField(stored=True),
        size=STORED,
        mtime=STORED,
        info=STORED,
    )


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


@dataclass
class FileOutcome:
    """What happened to one file in an ``add``, ``index`` or upload."""

    name: str
    status: str  # added | updated | unchanged | removed | refused
    passages: int = 0
    reason: str = ""  # why it was refused, in English
    code: str = ""  # the stable code of that reason (indexer.errors.CODES)

    @classmethod
    def refused(cls, error: UnsupportedFile) -> FileOutcome:
        return cls(error.name, "refused", reason=error.reason, code=error.code)


@dataclass
class Problem:
    """Something ``check`` found where the index and the corpus disagree."""

    source: str
    description: str


@dataclass
class SyncReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def refused(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "refused"]

    @property
    def changed(self) -> bool:
        """True when the index holds something new (searchers should look again)."""
        return any(o.status in ("added", "updated", "removed") for o in self.outcomes)


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
