"""The Whoosh index of a corpus folder: one document per passage.

Besides passages the index holds one record per corpus file (its content hash,
size and mtime) and one ``meta`` record naming the dictionary that built it.
Both are written in the same commit as the passages, so the index always
agrees with itself: a crash leaves the previous commit in place (Whoosh
writes its table of contents under a temporary name and renames it).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import ID, STORED, Schema
from whoosh.index import EmptyIndexError, LockError
from whoosh.query import Every
from whoosh.writing import IndexWriter

from indexer import analysis
from indexer.analysis import ChineseTextField
from indexer.document import Article, date_from_name, date_from_text
from indexer.errors import IndexCorrupt, IndexLocked, NotInCorpus, UnsupportedFile
from indexer.readers import is_supported, read_report

SCHEMA_VERSION = 2  # 2: characters simplified one by one; fewer indexed fields
USER_DICTIONARY = "userdict.dic"
USER_SYNONYMS = "synonyms.dic"
FILE, META = "file", "meta"

# Larger files are refused before they are read: a report this size is
# almost certainly not one report, and reading it would hold it all in memory.
MAX_FILE_BYTES = 100 * 1024 * 1024

# Above this much new text a commit uses both cores (Whoosh's MpWriter);
# below it, starting the worker processes costs more than it saves.
PARALLEL_BYTES = 2_000_000


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


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one."""
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


Progress = Callable[[str, int], None]  # (file name, bytes done) per file


class Store:
    """A corpus folder and its index. Writes take the index's writer lock."""

    def __init__(self, corpus_dir: str | Path, index_dir: str | Path,
                 lock_timeout: float = 60.0,
                 on_wait: Callable[[str], None] | None = None):
        self.corpus_dir = Path(corpus_dir)
        self.index_dir = Path(index_dir)
        self.lock_timeout = lock_timeout
        self.on_wait = on_wait
        analysis.load_dictionaries(self.user_dictionary)

    # -- opening -----------------------------------------------------------

    @property
    def user_dictionary(self) -> Path:
        return self.corpus_dir / USER_DICTIONARY

    @property
    def synonyms_file(self) -> Path:
        return self.corpus_dir / USER_SYNONYMS

    def analysis_fingerprint(self) -> str:
        """What decides how text is cut into words; a change needs a rebuild."""
        digest = hashlib.blake2b(digest_size=8)
        digest.update(f"schema={SCHEMA_VERSION};hmm={analysis.USE_HMM};".encode())
        for path in (analysis.BUNDLED_DICTIONARY, self.user_dictionary):
            if path.is_file():
                digest.update(path.read_bytes())
        return digest.hexdigest()

    def exists(self) -> bool:
        # Whoosh's exists_in() opens the index, so a damaged one would raise here.
        return any(self.index_dir.glob("_MAIN_*.toc"))

    def open_index(self, create: bool = True) -> whoosh_index.Index:
        try:
            if self.exists():
                return whoosh_index.open_dir(str(self.index_dir))
        except (EmptyIndexError, OSError, EOFError, ValueError, KeyError) as error:
            raise IndexCorrupt(f"cannot open the index in {self.index_dir}: {error}") from error
        except Exception as error:  # unpickling a damaged TOC raises nearly anything
            raise IndexCorrupt(f"cannot open the index in {self.index_dir}: {error}") from error
        if not create:
            raise IndexCorrupt(f"no index in {self.index_dir}", code="no_index")
        self.index_dir.mkdir(parents=True, exist_ok=True)
        return whoosh_index.create_in(str(self.index_dir), build_schema())

    @contextmanager
    def writer(self, ix: whoosh_index.Index, procs: int = 1) -> Iterator[IndexWriter]:
        """The index writer, waiting for another process's lock when needed."""
        # Whoosh spills its posting pool to disk past limitmb and merges the
        # runs at commit: on the whole news folder that cost a third of the
        # time. Memory stays bounded by these figures.
        kwargs = ({"procs": procs, "multisegment": True, "limitmb": 1024} if procs > 1
                  else {"limitmb": 512})
        deadline = time.monotonic() + self.lock_timeout
        told = False
        while True:
            try:
                writer = ix.writer(**kwargs)
                break
            except LockError:
                if time.monotonic() >= deadline:
                    raise IndexLocked(
                        f"the index in {self.index_dir} is being written by another process"
                    ) from None
                if not told and self.on_wait:
                    self.on_wait("Waiting for another zhsearch process to finish writing the index…")
                    told = True
                time.sleep(0.1)
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    # -- what the index holds ----------------------------------------------

    @staticmethod
    def file_records(searcher) -> dict[str, FileRecord]:
        """The record of every file the index holds, by source."""
        records = {}
        for docnum in searcher.document_numbers(kind=FILE):
            doc = searcher.stored_fields(docnum)
            info = json.loads(doc.get("info") or "{}")
            records[doc["source"]] = FileRecord(
                doc["source"], doc["file_hash"], doc["size"], doc["mtime"], doc.get("date"),
                info.get("articles", 0), info.get("passages", 0))
        return records

    @staticmethod
    def _meta(searcher) -> dict:
        docnum = searcher.document_number(kind=META)
        return json.loads(searcher.stored_fields(docnum)["info"]) if docnum is not None else {}

    def corpus_files(self) -> dict[str, Path]:
        """Report files under the corpus folder, by path relative to it."""
        found = {}
        if not self.corpus_dir.is_dir():
            return found
        for path in sorted(self.corpus_dir.rglob("*")):
            rel = path.relative_to(self.corpus_dir)
            if any(part.startswith(".") for part in rel.parts):
                continue
            if path.is_file() and is_supported(path):
                found[rel.as_posix()] = path
        return found

    def is_stale(self) -> bool:
        """True when the index is missing or does not match the corpus folder.

        Compares sizes and modification times only, so it is cheap enough to
        run before every command-line search.
        """
        if not self.exists():
            return True
        ix = self.open_index(create=False)
        with ix.searcher() as searcher:
            if self._meta(searcher).get("analysis") != self.analysis_fingerprint():
                return True
            records = self.file_records(searcher)
        files = self.corpus_files()
        if set(files) != set(records):
            return True
        for source, path in files.items():
            stat = path.stat()
            record = records[source]
            if stat.st_size != record.size or stat.st_mtime != record.mtime:
                return True
        return False

    # -- writing -----------------------------------------------------------

    def set_aside(self) -> Path | None:
        """Move a damaged index out of the way (never deleted) so a new one can be built."""
        if not self.index_dir.exists():
            return None
        aside = self.index_dir.with_name(f"{self.index_dir.name}.damaged-{int(time.time())}")
        self.index_dir.rename(aside)
        return aside

    def sync(self, progress: Progress | None = None,
             on_plan: Callable[[int, int], None] | None = None,
             rebuild: bool = False) -> SyncReport:
        """Bring the index in line with the corpus folder: new, changed, deleted files.

        ``on_plan(files, bytes)`` is told how much will be read before reading
        starts. With ``rebuild`` every file is indexed anew, in one commit.
        """
        analysis.load_dictionaries(self.user_dictionary)
        ix = self.open_index()
        report = SyncReport()
        fingerprint = self.analysis_fingerprint()
        with ix.searcher() as searcher:
            rebuild = rebuild or self._meta(searcher).get("analysis") != fingerprint
            records = {} if rebuild else self.file_records(searcher)
        files = self.corpus_files()
        to_read = []
        for source, path in files.items():
            stat = path.stat()
            record = records.get(source)
            if record and record.size == stat.st_size and record.mtime == stat.st_mtime:
                continue
            to_read.append((source, path, stat))
        deleted = [s for s in records if s not in files]
        if not to_read and not deleted and not rebuild:
            return report
        if on_plan:
            on_plan(len(to_read), sum(stat.st_size for _, _, stat in to_read))
        procs = 2 if sum(stat.st_size for _, _, stat in to_read) > PARALLEL_BYTES else 1
        with self.writer(ix, procs=procs) as writer:
            if rebuild:
                # The words would be cut differently now: start from nothing.
                writer.delete_by_query(Every())
            for source in deleted:
                writer.delete_by_term("source", source)
                report.outcomes.append(FileOutcome(source, "removed"))
            # One file in memory at a time, however large the corpus.
            for source, path, stat in to_read:
                if stat.st_size > MAX_FILE_BYTES:
                    report.outcomes.append(FileOutcome(source, "refused", reason=_TOO_LARGE,
                                                       code="too_large"))
                    continue
                data = path.read_bytes()
                record = records.get(source)
                status = "updated" if record else "added"
                if record and record.file_hash == content_hash(data):
                    status = "unchanged"
                outcome = self._write_file(writer, source, data, stat.st_size,
                                           stat.st_mtime, status)
                report.outcomes.append(outcome)
                if progress:
                    progress(source, len(data))
            self._write_meta(writer, fingerprint)
        return report

    def add_files(self, paths: Iterable[str | Path],
                  progress: Progress | None = None) -> SyncReport:
        """Copy report files into the corpus folder and index them.

        A file that cannot be read is refused with its reason; the others
        still go in. Adding the same content again changes nothing.
        """
        return self.add_uploads(((Path(p).name, Path(p)) for p in paths), progress)

    def add_uploads(self, items: Iterable[tuple[str, Path | bytes]],
                    progress: Progress | None = None) -> SyncReport:
        """Like :meth:`add_files` for ``(file name, path or bytes)`` pairs."""
        report = SyncReport()
        accepted: list[tuple[str, bytes, list[Article]]] = []
        for name, payload in items:
            name = Path(str(name).replace("\\", "/")).name  # never a path: no ../
            try:
                if not _valid_file_name(name):
                    raise UnsupportedFile(name or "(no name)", "not a valid file name",
                                          code="bad_name")
                if isinstance(payload, Path):
                    if not payload.is_file():
                        raise UnsupportedFile(name, "no such file", code="no_such_file")
                    _refuse_if_too_large(name, payload.stat().st_size)
                    payload = payload.read_bytes()
                _refuse_if_too_large(name, len(payload))
                articles = read_report(payload, name)
            except UnsupportedFile as error:
                report.outcomes.append(FileOutcome.refused(error))
                continue
            except OSError as error:
                report.outcomes.append(FileOutcome(name, "refused", reason=error.strerror or str(error),
                                                   code="cannot_write"))
                continue
            accepted.append((name, payload, articles))
        # Two files of one batch with the same name: the last one wins, as
        # it would in two adds; the others are reported, not half-written.
        last = {name: i for i, (name, _, _) in enumerate(accepted)}
        for i, (name, _, _) in enumerate(accepted):
            if last[name] != i:
                report.outcomes.append(FileOutcome(
                    name, "refused", reason="a later file of this batch has the same name",
                    code="same_name_in_batch"))
        accepted = [item for i, item in enumerate(accepted) if last[item[0]] == i]
        if not accepted:
            return report
        analysis.load_dictionaries(self.user_dictionary)
        ix = self.open_index()
        fingerprint = self.analysis_fingerprint()
        procs = 2 if sum(len(d) for _, d, _ in accepted) > PARALLEL_BYTES else 1
        with self.writer(ix, procs=procs) as writer:
            with writer.searcher() as searcher:
                records = self.file_records(searcher)
                indexed_with = self._meta(searcher).get("analysis", fingerprint)
            for name, data, articles in accepted:
                target = self.corpus_dir / name
                digest = content_hash(data)
                record = records.get(name)
                if record and record.file_hash == digest and target.is_file() \
                        and content_hash(target.read_bytes()) == digest:
                    report.outcomes.append(FileOutcome(name, "unchanged"))
                    continue
                try:
                    write_atomically(target, data)
                except OSError as error:
                    # This file is refused; the others of the batch still go in.
                    report.outcomes.append(FileOutcome(
                        name, "refused", reason=f"cannot write it to the corpus: {error.strerror}",
                        code="cannot_write"))
                    continue
                stat = target.stat()
                status = "updated" if record else "added"
                report.outcomes.append(self._write_file(
                    writer, name, data, stat.st_size, stat.st_mtime, status, articles))
                if progress:
                    progress(name, len(data))
            # The files already indexed were cut with the dictionary named
            # in the index: keep its name, so that the next sync rebuilds
            # them if the dictionary changed since.
            self._write_meta(writer, indexed_with if records else fingerprint)
        return report

    def remove(self, name: str) -> int:
        """Remove a file from the corpus and its passages from the index.

        Returns how many passages went. Raises :class:`NotInCorpus` when the
        corpus has no such file.
        """
        source = name.replace("\\", "/").strip("/")
        path = self.corpus_dir / source
        # Only a report of this corpus: never a path out of it (../), nor the
        # dictionaries that sit beside the reports.
        corpus = self.corpus_dir.resolve()
        inside = path.resolve().is_relative_to(corpus) and path.resolve() != corpus
        ix = self.open_index()
        with self.writer(ix) as writer:
            with writer.searcher() as searcher:
                known = searcher.document_number(kind=FILE, source=source) is not None
                passages = sum(1 for _ in searcher.document_numbers(source=source)) - known
            if not inside or not (known or (path.is_file() and is_supported(path))):
                raise NotInCorpus(source)
            writer.delete_by_term("source", source)
        path.unlink(missing_ok=True)
        return max(passages, 0)

    @staticmethod
    def _indexed_passages(writer: IndexWriter, source: str) -> dict[str, dict]:
        """The passages the index holds for ``source``, by id; all of them
        are to be replaced when an id appears twice."""
        with writer.searcher() as searcher:
            docs = [searcher.stored_fields(n) for n in searcher.document_numbers(source=source)]
        passages = {d["id"]: d for d in docs if d.get("kind") != FILE}
        if len(passages) != sum(1 for d in docs if d.get("kind") != FILE):
            for doc_id in passages:
                writer.delete_by_term("id", doc_id)
            return {}
        return passages

    def _write_file(self, writer: IndexWriter, source: str, data: bytes, size: int,
                    mtime: float, status: str, articles: list[Article] | None = None,
                    keep_unchanged: bool = True) -> FileOutcome:
        if status == "unchanged":
            # Touched, not changed: refresh the file record's mtime only.
            with writer.searcher() as searcher:
                old = searcher.document(id=f"{FILE}:{source}") or {}
            writer.delete_by_term("id", f"{FILE}:{source}")
            writer.add_document(id=f"{FILE}:{source}", kind=FILE, source=source,
                                file_hash=content_hash(data), size=size, mtime=mtime,
                                date=old.get("date"), info=old.get("info"))
            return FileOutcome(source, "unchanged")
        if articles is None:
            try:
                articles = read_report(data, source)
            except UnsupportedFile as error:
                # Keep whatever the index already holds for this file.
                return FileOutcome.refused(error)
        digest = content_hash(data)
        date = date_from_name(source) or date_from_text(_opening_text(articles))
        key = file_key(source)
        # A changed file keeps the passages that did not change: they are
        # neither deleted nor cut into words again.
        old = self._indexed_passages(writer, source) if keep_unchanged else {}
        writer.delete_by_term("id", f"{FILE}:{source}")
        count = 0
        for a_no, article in enumerate(articles, start=1):
            for p_no, passage in enumerate(article.passages, start=1):
                fields = dict(
                    id=f"{key}-{a_no}-{p_no}", kind=passage.kind, source=source,
                    file_hash=digest, article=f"{key}-{a_no}", title=article.title,
                    section=passage.section, byline=article.byline, paragraph=p_no,
                    page=passage.page, date=date, content=passage.text,
                )
                count += 1
                previous = old.pop(fields["id"], None)
                if previous is not None and all(
                        previous.get(k) == fields[k] for k in _PASSAGE_FIELDS):
                    continue
                if previous is not None:
                    writer.delete_by_term("id", fields["id"])
                writer.add_document(**fields)
        for stale_id in old:
            writer.delete_by_term("id", stale_id)
        writer.add_document(id=f"{FILE}:{source}", kind=FILE, source=source,
                            file_hash=digest, size=size, mtime=mtime, date=date,
                            info=json.dumps({"articles": len(articles), "passages": count}))
        return FileOutcome(source, status, passages=count)

    def _write_meta(self, writer: IndexWriter, fingerprint: str) -> None:
        writer.delete_by_term("kind", META)
        writer.add_document(id=META, kind=META, info=json.dumps({
            "analysis": fingerprint, "schema": SCHEMA_VERSION, "updated": time.time(),
        }))

    # -- integrity -----------------------------------------------------------

    def check(self) -> list[Problem]:
        """Every corpus file indexed once, with its current content; no orphans."""
        problems: list[Problem] = []
        files = self.corpus_files()
        ix = self.open_index(create=False)
        with ix.searcher() as searcher:
            records = self.file_records(searcher)
            for source in sorted(set(files) - set(records)):
                problems.append(Problem(source, "in the corpus but not indexed"))
            for source in sorted(set(records) - set(files)):
                problems.append(Problem(source, "indexed but no longer in the corpus"))
            indexed_sources = {t.decode("utf-8") for t in searcher.reader().lexicon("source")}
            for source in sorted(indexed_sources - set(records)):
                if any(True for _ in searcher.document_numbers(source=source)):
                    problems.append(Problem(source, "passages without a file record"))
            for source, record in sorted(records.items()):
                if source in files and content_hash(files[source].read_bytes()) != record.file_hash:
                    problems.append(Problem(source, "changed since it was indexed"))
                    continue
                expected = record.passages + 1  # the passages and the record
                held = sum(1 for _ in searcher.document_numbers(source=source))
                if held != expected:
                    problems.append(Problem(
                        source, f"{held - 1} passages indexed, {expected - 1} expected"))
        return problems

    def repair(self, problems: list[Problem], progress: Progress | None = None) -> SyncReport:
        """Index the files that ``check`` found wrong anew, in one commit."""
        report = SyncReport()
        sources = sorted({p.source for p in problems})
        if not sources:
            return report
        analysis.load_dictionaries(self.user_dictionary)
        ix = self.open_index()
        with self.writer(ix) as writer:
            for source in sources:
                writer.delete_by_term("source", source)
                path = self.corpus_dir / source
                if not path.is_file():
                    report.outcomes.append(FileOutcome(source, "removed"))
                    continue
                data = path.read_bytes()
                stat = path.stat()
                report.outcomes.append(self._write_file(
                    writer, source, data, stat.st_size, stat.st_mtime, "updated",
                    keep_unchanged=False))
                if progress:
                    progress(source, len(data))
            self._write_meta(writer, self.analysis_fingerprint())
        return report

    # -- reading -------------------------------------------------------------

    def sources(self) -> list[str]:
        """The corpus files the index holds."""
        with self.open_index(create=False).searcher() as searcher:
            return sorted(self.file_records(searcher))

    def stats(self) -> dict:
        """Counts of files, articles and passages, and the index size on disk."""
        ix = self.open_index(create=False)
        with ix.searcher() as searcher:
            records = self.file_records(searcher).values()
            terms = sum(1 for _ in searcher.lexicon("content"))
        articles = sum(r.articles for r in records)
        passages = sum(r.passages for r in records)
        dates = sorted(r.date for r in records if r.date)
        size = sum(f.stat().st_size for f in self.index_dir.iterdir() if f.is_file())
        return {
            "corpus": str(self.corpus_dir), "index": str(self.index_dir),
            "files": len(records), "articles": articles, "passages": passages,
            "terms": terms, "index_bytes": size,
            "first_date": dates[0] if dates else None,
            "last_date": dates[-1] if dates else None,
        }


def _valid_file_name(name: str) -> bool:
    """A plain file name: no path, no control characters, not hidden, not too long."""
    return (bool(name) and not name.startswith(".")
            and not any(ord(ch) < 32 or ch == "\x7f" for ch in name)
            and len(name.encode("utf-8")) <= 255)


# What a kept passage must still agree on with the new one.
_PASSAGE_FIELDS = ("kind", "article", "title", "section", "byline", "paragraph", "page",
                   "date", "content")

_TOO_LARGE = f"larger than {MAX_FILE_BYTES // 2**20} MB; split it into smaller reports"


def _refuse_if_too_large(name: str, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise UnsupportedFile(name, _TOO_LARGE, code="too_large")


def _opening_text(articles: list[Article]) -> str:
    """The first few passages, where a report states its date if it does."""
    passages = [p.text for a in articles[:1] for p in a.passages[:3]]
    return "\n".join(passages)
