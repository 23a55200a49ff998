"""Writing the Whoosh index of a corpus folder: one document per passage.

Besides passages the index holds one record per corpus file (its content hash,
size and mtime) and one ``meta`` record naming the dictionary that built it.
Every write goes through :meth:`Store.transaction`, which takes the writer
lock and writes the ``meta`` record in the same commit as the passages, so
the index always agrees with itself: a crash leaves the previous commit in
place (Whoosh writes its table of contents under a temporary name and
renames it). Checking and repairing are in :mod:`indexer.integrity`.
"""

from __future__ import annotations

import errno
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import EmptyIndexError, LockError
from whoosh.query import Every
from whoosh.searching import Searcher
from whoosh.writing import IndexWriter

from indexer import analysis, names, postings, snapshot
from indexer import stamp as stamps
from indexer.bulkwriter import open_writer
from indexer.codec import ZhCodec
from indexer.segmenter import Segmenter, keep_lexicon, lexicon_segmenter, segmenter_for
from indexer.corpus import (MAX_FILE_BYTES, TOO_LARGE, Corpus, refuse_if_too_large,
                            write_atomically)
from indexer.document import Article, date_from_name, date_from_text
from indexer.errors import (IndexCorrupt, IndexLocked, IndexUnwritable, NoSuchVersion, NotInCorpus,
                            TooManyRemovals, UnsupportedFile, ZhsearchError)
from indexer.readers import is_supported
from indexer.readers.worker import read_budget, read_report_isolated
from indexer.stamp import Stamp
from indexer.versions import Version, Versions
from indexer.records import (FILE, META, PASSAGE_FIELDS, SCHEMA_VERSION, FileOutcome, FileRecord,
                             Status, passage_document,
                             SyncReport, build_schema, content_hash, file_key, file_record_id)

# Above this much new text a commit uses both cores (indexer.bulkwriter);
# below it, starting the worker processes costs more than it saves.
PARALLEL_BYTES = 2_000_000

Progress = Callable[[str, int], None]  # (file name, bytes done) per file
# An add reads this much, then writes it in one commit: memory stays bounded
# for a folder of any size, and a commit per few files would cost more.
ADD_BATCH_BYTES = 16_000_000

_OPEN_ATTEMPTS = 5

# Whoosh spills its posting pool to MAIN.tmp/ past this many MB (per worker
# process with MpWriter) and merges the runs at commit: spilling on the whole
# news folder cost a third of the time. Memory stays bounded by these figures.
POOL_MB = 512
PARALLEL_POOL_MB = 1024

# A sync removes at most this share of the indexed reports unless the user
# confirms it (``index --allow-removals``), as rsync's --max-delete guards a
# mirror. A day's changes remove a few reports; an emptied or unmounted
# folder, or a --corpus naming another folder, removes all or nearly all
# (rebuilding 1M passages takes 11 minutes). rsync's bound is a count; a
# share suits a corpus of 10 reports and one of 10,000 alike.
MAX_REMOVED_SHARE = 0.5


@dataclass
class Transaction:
    """One commit in the making: the writer, what the index held when it began."""

    writer: IndexWriter
    records: dict[str, FileRecord]
    meta: dict
    fingerprint: str  # of the dictionaries in the corpus now


class Store:
    """A corpus folder and its index. Writes take the index's writer lock."""

    def __init__(self, corpus_dir: str | Path, index_dir: str | Path,
                 lock_timeout: float = 60.0,
                 on_wait: Callable[[str], None] | None = None,
                 one_command: bool = False):
        """``one_command``: a process that answers one command (the CLI); it cuts
        queries with the lexicon kept beside the index (:func:`lexicon_segmenter`)
        rather than build the whole dictionary for a few words."""
        self.corpus = Corpus(corpus_dir)
        self.corpus_dir = self.corpus.folder
        self.versions = Versions(self.corpus_dir)
        self.index_dir = Path(index_dir)
        self.lock_timeout = lock_timeout
        self.on_wait = on_wait
        self.one_command = one_command

    # -- the corpus ------------------------------------------------------------

    @property
    def user_dictionary(self) -> Path:
        return self.corpus.user_dictionary

    @property
    def synonyms_file(self) -> Path:
        return self.corpus.synonyms_file

    def corpus_files(self) -> dict[str, Path]:
        """Report files under the corpus folder, by path relative to it."""
        return self.corpus.files()

    def segmenter(self) -> Segmenter:
        """How this corpus cuts words: the bundled dictionary and its ``userdict.dic``."""
        if self.one_command and self.index_dir.is_dir():
            # The same words, from the lexicon: 0.1 s less for a cold search.
            quick = lexicon_segmenter(self.dictionaries(), self.index_dir)
            if quick is not None:
                return quick
        return self._whole_segmenter()

    def dictionaries(self) -> list[Path]:
        """The dictionaries this corpus is cut with: jieba's bundled one, then its own."""
        return [analysis.BUNDLED_DICTIONARY, self.user_dictionary]

    def _whole_segmenter(self) -> Segmenter:
        # The numbers rjieba needs from jieba are kept beside the index: a
        # cold search then never waits for jieba's 0.5 s start-up.
        return segmenter_for(self.dictionaries(),
                             cache_dir=self.index_dir if self.index_dir.is_dir() else None)

    def keep_lexicon(self) -> None:
        """Keep the lexicon of this corpus's dictionaries beside the index."""
        if self.index_dir.is_dir():
            keep_lexicon(self.dictionaries(), self.index_dir)

    def analysis_fingerprint(self, segmenter: Segmenter | None = None) -> str:
        """What decides how text is cut into words; a change needs a rebuild."""
        segmenter = segmenter or self.segmenter()
        digest = hashlib.blake2b(digest_size=8)
        digest.update(f"schema={SCHEMA_VERSION};{segmenter.fingerprint}".encode())
        return digest.hexdigest()

    # -- opening ----------------------------------------------------------------

    def exists(self) -> bool:
        """Whether the index has had a commit.

        ``create_in`` writes an empty table of contents, generation 0,
        before the first commit: a first `index` killed before its commit
        leaves only that, and `check` and `stats` then crashed on its
        segment-less reader (issue 19). Every later commit writes the
        ``meta`` record, so a committed index always has a segment.
        """
        # Whoosh's exists_in() opens the index, so a damaged one would raise here.
        return _generation(_index_files(self.index_dir)) > 0

    def _has_toc(self) -> bool:
        return any(self.index_dir.glob("_MAIN_*.toc"))

    def open_index(self, create: bool = True) -> whoosh_index.Index:
        if not create and not self.exists():
            raise IndexCorrupt(f"no index in {self.index_dir}", code="no_index")
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                # An uncommitted index (generation 0) is opened, never created
                # anew: create_in deletes every table of contents, a commit
                # another process just made among them.
                if self._has_toc():
                    ix = whoosh_index.open_dir(str(self.index_dir))
                    # Open every segment once: a deleted, truncated or overwritten
                    # segment file is found here, not in the middle of a search.
                    ix.reader().close()
                    return ix
                break
            except Exception as error:  # unpickling a damaged TOC raises nearly anything
                # A commit may have replaced the TOC between the listing and
                # the open (issue 13: a healthy index answered 503): look again.
                if attempt == _OPEN_ATTEMPTS - 1 or not isinstance(
                        error, (EmptyIndexError, OSError, EOFError)):
                    raise IndexCorrupt(
                        f"cannot open the index in {self.index_dir}: {error}") from error
                time.sleep(0.02 * 2 ** attempt)
        if not create:
            raise IndexCorrupt(f"no index in {self.index_dir}", code="no_index")
        self.index_dir.mkdir(parents=True, exist_ok=True)
        return whoosh_index.create_in(str(self.index_dir), build_schema())

    def set_aside(self) -> Path | None:
        """Move a damaged index out of the way (never deleted) so a new one can be built."""
        if not self.index_dir.exists():
            return None
        aside = self.index_dir.with_name(f"{self.index_dir.name}.damaged-{int(time.time())}")
        self.index_dir.rename(aside)
        return aside

    # -- what the index holds ----------------------------------------------------

    @staticmethod
    def file_records(searcher: Searcher) -> dict[str, FileRecord]:
        """The record of every file the index holds, by source."""
        records = {}
        for docnum in searcher.document_numbers(kind=FILE):
            record = FileRecord.from_stored(searcher.stored_fields(docnum))
            records[record.source] = record
        return records

    @staticmethod
    def meta(searcher: Searcher) -> dict:
        """The index's ``meta`` record: which dictionaries built it, when it changed."""
        docnum = searcher.document_number(kind=META)
        return json.loads(searcher.stored_fields(docnum)["info"]) if docnum is not None else {}

    def sources(self) -> list[str]:
        """The corpus files the index holds."""
        with self.open_index(create=False).searcher() as searcher:
            return sorted(self.file_records(searcher))

    def is_stale(self) -> bool:
        """True when the index is missing or does not match the corpus folder.

        Compares sizes and modification times only, with the stamp of the
        current commit (:mod:`indexer.stamp`): no segment is opened and no
        record decoded, so it is cheap enough to run before every
        command-line search.
        """
        if not self.exists():
            return True
        held = self.stamp()
        if held.analysis != self.analysis_fingerprint():
            return True
        files = self.corpus_files()
        if files.keys() != held.files.keys():
            return True
        for source, path in files.items():
            try:
                stat = path.stat()
            except OSError:
                return True
            if (stat.st_size, stat.st_mtime) != held.files[source]:
                return True
        return False

    def stamp(self) -> Stamp:
        """Each report's size and mtime as the index's current commit records them,
        and its analysis fingerprint: from the stamp beside the index when it
        names that commit, else from the records (and the stamp is written)."""
        commit = stamps.toc_identity(self.index_dir, _generation(_index_files(self.index_dir)))
        kept = stamps.read(self.index_dir)
        if kept is not None and commit is not None and kept.commit == commit and \
                stamps.segments_unchanged(self.index_dir, kept):
            return kept
        return self.write_stamp()

    def write_stamp(self, ix: whoosh_index.Index | None = None) -> Stamp:
        """Write the stamp of the newest commit from its records (best effort: a
        read-only index folder keeps none) and return it; ``ix``, the index
        a writer already opened, spares opening every segment again."""
        with (ix or self.open_index(create=False)).searcher() as searcher:
            made = self.stamp_of(searcher)
        if made.commit:
            stamps.write(self.index_dir, made)
        return made

    def stamp_of(self, searcher: Searcher,
                 records: dict[str, FileRecord] | None = None) -> Stamp:
        """The stamp of the commit ``searcher`` reads, from its records
        (``records``, when the caller has read them already)."""
        commit = stamps.toc_identity(self.index_dir, searcher.reader().generation())
        prefixes = [f"{segment}." for segment, _ in postings.segments_of(searcher.reader())]
        if records is None:
            records = self.file_records(searcher)
        return Stamp(commit or "", self.meta(searcher).get("analysis"),
                     {s: (r.size, r.mtime) for s, r in records.items()},
                     stamps.segment_files(self.index_dir, prefixes, postings.SUFFIX))

    # -- writing -----------------------------------------------------------------

    @contextmanager
    def transaction(self, procs: int = 1, keep_fingerprint: bool = False
                    ) -> Iterator[Transaction]:
        """One commit under the writer lock, waiting for another process's lock.

        The ``meta`` record is written in the same commit: with the current
        dictionaries' fingerprint, or with ``keep_fingerprint`` the one the
        index already had, so that files cut with older dictionaries are
        still rebuilt by the next sync. Any exception cancels the commit.
        """
        before = _index_files(self.index_dir)
        try:
            ix = self.open_index()
        except OSError as error:  # creating an index in a read-only folder
            raise _unwritable(self.index_dir, error) from None
        segmenter = self._whole_segmenter()  # it cuts whole files
        fingerprint = self.analysis_fingerprint(segmenter)
        kwargs = ({"procs": procs, "multisegment": True, "limitmb": PARALLEL_POOL_MB}
                  if procs > 1 else {"limitmb": POOL_MB})
        # Plain segment files, not one compound file: Whoosh copies each
        # part of a compound segment it opens into private memory (BytesIO
        # over the mmap, whoosh.filedb.compound.BufferFile), once per reader,
        # so every server thread held its own copy of the postings and stored
        # fields (8 threads: +153 MB on 90 news files; plain files: +8 MB).
        kwargs["compound"] = False
        # Whoosh's W3 codec with each segment's field lengths read once
        # (indexer.codec): 12 % of writing a segment went to reading them
        # back one posting at a time.
        kwargs["codec"] = ZhCodec()
        # Every word is cut with this corpus's dictionaries, in the worker
        # processes MpWriter forks too (they inherit the context).
        with analysis.using(segmenter):
            try:
                writer = self._lock(ix, kwargs)
            except OSError as error:  # the lock file or MAIN.tmp/ cannot be made: read-only, full
                _remove_new_files(self.index_dir, before)
                raise _unwritable(self.index_dir, error) from None
            try:
                with writer.searcher() as searcher:
                    txn = Transaction(writer, self.file_records(searcher), self.meta(searcher),
                                      fingerprint)
                yield txn
                kept = txn.meta.get("analysis") if keep_fingerprint and txn.records else None
                _write_meta(writer, kept or fingerprint)
            except BaseException as error:
                _cancel(writer)
                _remove_new_files(self.index_dir, before)
                if isinstance(error, OSError) and not isinstance(error, ZhsearchError):
                    raise _unwritable(self.index_dir, error) from None
                if isinstance(error, Exception) and not isinstance(error, ZhsearchError) \
                        and from_whoosh(error):
                    # Under the writer lock no other writer changes a file:
                    # Whoosh failing to read one is a damaged segment.
                    raise IndexCorrupt.damaged(self.index_dir, error) from error
                raise
            try:
                writer.commit()
            except OSError as error:
                # A full disk mid-commit left segment files that kept it full
                # (issue 13): what this commit wrote goes, the last commit stays.
                _cancel(writer)
                _remove_new_files(self.index_dir, before)
                raise _unwritable(self.index_dir, error) from None
        # The arrays searches read (indexer.postings), built now so that no
        # search waits for them: 2-3 s per 25,000 passages.
        postings.build_after_commit(ix, self.index_dir, procs)
        snapshot.after_commit(ix, self.index_dir)
        # And the stamp the next search's is_stale reads instead of every
        # record (0.03 s at 365 reports), and the lexicon its query is cut
        # with. Both are best effort: the commit is made, and a failure only
        # costs the next search the records' reading. The stamp is read after
        # the lock went, so another writer's merge can delete a segment under
        # it (Whoosh then raises TypeError: 'NoneType'…; a soak's upload was
        # answered 503 after its commit).
        try:
            self.write_stamp(ix)
        except Exception as error:  # noqa: BLE001 - what a raced Whoosh reader raises
            if not isinstance(error, (ZhsearchError, OSError)) and not from_whoosh(error):
                raise
        try:
            self.keep_lexicon()
        except (ZhsearchError, OSError):
            pass

    def _lock(self, ix: whoosh_index.Index, kwargs: dict) -> IndexWriter:
        deadline = time.monotonic() + self.lock_timeout
        told = False
        while True:
            try:
                return open_writer(ix, **kwargs)  # the bulk writer for a large commit
            except LockError:
                if time.monotonic() >= deadline:
                    raise IndexLocked(
                        f"the index in {self.index_dir} is being written by another process"
                    ) from None
                if not told and self.on_wait:
                    self.on_wait("Waiting for another zhsearch process to finish writing the index…")
                    told = True
                time.sleep(0.1)

    def ensure_current(self, progress: Progress | None = None,
                       on_plan: Callable[[int, int], None] | None = None) -> SyncReport | None:
        """Build or update the index when it is missing or older than the corpus.

        What ``search``, ``add`` and ``serve`` do first; None when it was current.
        Raises :class:`NoCorpus` for a missing corpus folder (no index is made)
        and :class:`TooManyRemovals` when most reports would go.
        """
        if not self.is_stale():
            return None
        return self.sync(progress=progress, on_plan=on_plan)

    def rebuild(self, progress: Progress | None = None,
                on_plan: Callable[[int, int], None] | None = None,
                allow_removals: bool = False) -> tuple[SyncReport, Path | None]:
        """Index every file anew, in one commit; an index that cannot be opened is
        first moved aside (never deleted). Returns the report and where it went."""
        self.corpus.require()  # before anything is moved aside
        aside = None
        try:
            self.open_index()
        except IndexCorrupt:
            aside = self.set_aside()
        try:
            return self.sync(progress=progress, on_plan=on_plan, rebuild=True,
                             allow_removals=allow_removals), aside
        except Exception as error:  # noqa: BLE001 - what a damaged segment makes Whoosh raise
            if aside is not None or not from_whoosh(error):
                raise
        # The index opened, but a segment file is damaged past its header (a
        # truncated postings file): Whoosh failed while dropping or merging it.
        aside = self.set_aside()
        return self.sync(progress=progress, on_plan=on_plan, rebuild=True,
                         allow_removals=allow_removals), aside

    def sync(self, progress: Progress | None = None,
             on_plan: Callable[[int, int], None] | None = None,
             rebuild: bool = False, allow_removals: bool = False) -> SyncReport:
        """Bring the index in line with the corpus folder: new, changed, deleted files.

        ``on_plan(files, bytes)`` is told how much will be read before reading
        starts. With ``rebuild`` every file is indexed anew, in one commit.
        A missing or unreadable corpus folder raises :class:`NoCorpus`; a sync
        that would remove more than half the indexed reports raises
        :class:`TooManyRemovals` unless ``allow_removals``. Either leaves
        the index untouched.
        """
        report = SyncReport()
        # First: a missing corpus folder must never read as one without reports.
        files = self.corpus_files()
        indexed: dict[str, FileRecord] = {}
        if self.exists():
            with self.open_index().searcher() as searcher:
                indexed = self.file_records(searcher)
                rebuild = rebuild or \
                    self.meta(searcher).get("analysis") != self.analysis_fingerprint()
        else:
            rebuild = True
        records = {} if rebuild else indexed
        # A bad name or a link is reported and skipped; the pass goes on.
        report.outcomes.extend(FileOutcome.refused(e) for e in self.corpus.skipped)
        to_read = []
        for source, path in list(files.items()):
            try:
                stat = path.stat()
            except OSError:
                del files[source]  # gone between listing and now: deleted
                continue
            record = records.get(source)
            if record and record.size == stat.st_size and record.mtime == stat.st_mtime:
                continue
            to_read.append((source, path, stat))
        gone = [s for s in indexed if s not in files]
        if gone and len(gone) > len(indexed) * MAX_REMOVED_SHARE and not allow_removals:
            raise TooManyRemovals(self.corpus_dir, len(gone), len(indexed))
        deleted = [] if rebuild else gone  # a rebuild writes everything anew
        if not to_read and not deleted and not rebuild:
            self.keep_lexicon()  # an index made before lexicons were kept
            return report
        total = sum(stat.st_size for _, _, stat in to_read)
        if on_plan:
            on_plan(len(to_read), total)
        with self.transaction(procs=2 if total > PARALLEL_BYTES else 1) as txn:
            writer = txn.writer
            if rebuild:
                # The words would be cut differently now: start from nothing.
                writer.delete_by_query(Every())
            for source in deleted:
                writer.delete_by_term("source", source)
                report.outcomes.append(FileOutcome(source, Status.REMOVED))
            # One file in memory at a time, however large the corpus.
            for source, path, stat in to_read:
                if stat.st_size > MAX_FILE_BYTES:
                    report.outcomes.append(FileOutcome(source, Status.REFUSED, reason=TOO_LARGE,
                                                       code="too_large"))
                    if progress:  # refused is done too: a bar counts every file planned
                        progress(source, stat.st_size)
                    continue
                try:
                    data = path.read_bytes()
                except OSError as error:
                    # Unreadable (permissions, I/O error): reported, the others go in.
                    report.outcomes.append(_unreadable(source, error))
                    if progress:
                        progress(source, stat.st_size)
                    continue
                record = records.get(source)
                status = Status.UPDATED if record else Status.ADDED
                if record and record.file_hash == content_hash(data):
                    status = Status.UNCHANGED
                report.outcomes.append(_write_file(writer, source, data, stat.st_size,
                                                   stat.st_mtime, status))
                if progress:
                    progress(source, len(data))
        return report

    def add_files(self, paths: Iterable[str | Path | tuple[str, Path]],
                  progress: Progress | None = None,
                  on_plan: Callable[[int, int], None] | None = None) -> SyncReport:
        """Copy report files into the corpus folder and index them.

        A path goes in under its file name; a ``(name, path)`` pair under
        ``name``, which may name folders inside the corpus (``简报/05.txt``).
        A file that cannot be read is refused with its reason; the others
        still go in. Adding the same content again changes nothing.
        """
        items = [(p[0], Path(p[1])) if isinstance(p, tuple) else (Path(p).name, Path(p))
                 for p in paths]
        return self.add_uploads(items, progress, on_plan, keep_folders=True)

    def add_uploads(self, items: Iterable[tuple[str, Path | bytes]],
                    progress: Progress | None = None,
                    on_plan: Callable[[int, int], None] | None = None,
                    keep_folders: bool = False) -> SyncReport:
        """Like :meth:`add_files` for ``(file name, path or bytes)`` pairs.

        An upload's name is its last part only, unless ``keep_folders``.
        ``on_plan(files, bytes)`` is told how much will be read first;
        ``progress`` as each file is done. Files are read, then written, in
        batches of at most ``ADD_BATCH_BYTES``: a folder of any size is never
        held in memory, and no lock is held while files are read.
        A missing corpus folder raises :class:`NoCorpus`: it is never made
        anew (a server whose share went away would have put one report in
        an empty folder, and the next sync removed every other).
        """
        self.corpus.require()
        report = SyncReport()
        named: list[tuple[str, Path | bytes, int]] = []
        for name, payload in items:
            name = names.corpus_name(str(name)) if keep_folders else names.base_name(str(name))
            problem = names.path_problem(name)
            if problem:
                report.outcomes.append(FileOutcome.refused(problem))
                continue
            size = len(payload) if isinstance(payload, bytes) else _size(payload)
            named.append((name, payload, size))
        # Two files of one batch with the same name are both kept, the later
        # under a numbered name (报告 (2).txt), as `zhsearch add` keeps them.
        named, renamed = self._number_same_names(named)
        if on_plan:
            on_plan(len(named), sum(size for _, _, size in named))
        batch: list[tuple[str, bytes, list[Article]]] = []
        batch_bytes = 0
        # All the files of one request share one reading time: 1,000 files
        # that each ran to their own limit would hold a server thread for days.
        budget = read_budget()
        for name, payload, size in named:
            try:
                data = _payload_bytes(name, payload)
                # Read in a worker process with memory and time limits: never in
                # the thread (a server thread) that called.
                articles = read_report_isolated(data, name, budget)
            except (UnsupportedFile, OSError) as error:
                report.outcomes.append(FileOutcome.refused(error) if isinstance(error, UnsupportedFile)
                                       else FileOutcome(name, Status.REFUSED, code="cannot_write",
                                                        reason=error.strerror or str(error)))
                if progress:
                    progress(name, size)
                continue
            batch.append((name, data, articles))
            batch_bytes += len(data)
            if batch_bytes >= ADD_BATCH_BYTES:
                self._write_added(batch, report, progress)
                batch, batch_bytes = [], 0
        if batch:
            self._write_added(batch, report, progress)
        for outcome in report.outcomes:
            outcome.renamed_from = renamed.get(outcome.name, "")
        return report

    def _number_same_names(self, named: list[tuple[str, Path | bytes, int]]
                           ) -> tuple[list[tuple[str, Path | bytes, int]], dict[str, str]]:
        """``named`` with the second and later files of one name renamed
        ``NAME (2)``, ``NAME (3)``…, and the names they wanted, by new name.
        A numbered name is never another file's of the batch, nor that of a
        different file already in the corpus (the same content there is this
        file added before: it is found again, not copied twice)."""
        taken = {name for name, _, _ in named}
        kept: list[tuple[str, Path | bytes, int]] = []
        seen: set[str] = set()
        renamed: dict[str, str] = {}
        for name, payload, size in named:
            if name in seen:
                n = 2
                while True:
                    candidate = names.numbered_name(name, n)
                    if candidate not in taken and self._free_for(candidate, payload, size):
                        break
                    n += 1
                renamed[candidate] = name
                taken.add(candidate)
                name = candidate
            seen.add(name)
            kept.append((name, payload, size))
        return kept, renamed

    def _free_for(self, name: str, payload: Path | bytes, size: int) -> bool:
        """True when the corpus has no file ``name``, or that file holds ``payload``."""
        existing = self.corpus_dir / name
        try:
            if not existing.is_file():
                return not existing.exists()
            if existing.stat().st_size != size:
                return False
            data = payload if isinstance(payload, bytes) else payload.read_bytes()
            return existing.read_bytes() == data
        except OSError:
            return False

    def _write_added(self, accepted: list[tuple[str, bytes, list[Article]]], report: SyncReport,
                     progress: Progress | None) -> None:
        """Write files read by :meth:`add_uploads` into the corpus and the index, in one commit."""
        procs = 2 if sum(len(d) for _, d, _ in accepted) > PARALLEL_BYTES else 1
        # What this batch wrote into the corpus, and the content it replaced
        # (None: a new file): put back when the commit fails, so that a full
        # disk leaves no file that the index does not hold (the next search
        # failed trying to index it, issue 19).
        written: list[tuple[Path, bytes | None]] = []
        try:
            self._write_batch(accepted, report, progress, procs, written)
        except BaseException:
            for target, old in reversed(written):
                try:
                    if old is None:
                        target.unlink(missing_ok=True)
                    else:
                        write_atomically(target, old)
                except OSError:
                    pass  # kept in .versions/ all the same
            raise

    def _write_batch(self, accepted: list[tuple[str, bytes, list[Article]]], report: SyncReport,
                     progress: Progress | None, procs: int,
                     written: list[tuple[Path, bytes | None]]) -> None:
        with self.transaction(procs=procs, keep_fingerprint=True) as txn:
            for name, data, articles in accepted:
                target = self.corpus_dir / name
                digest = content_hash(data)
                record = txn.records.get(name)
                if record and record.file_hash == digest and target.is_file() \
                        and content_hash(target.read_bytes()) == digest:
                    report.outcomes.append(FileOutcome(name, Status.UNCHANGED))
                    if progress:
                        progress(name, len(data))
                    continue
                try:
                    # The content it replaces is kept first: no report is ever lost.
                    old: bytes | None = None
                    if target.is_file() and not target.is_symlink():
                        old = target.read_bytes()
                        if old != data:
                            self.versions.keep(name, old)
                    write_atomically(target, data)
                    written.append((target, old))
                except OSError as error:
                    # This file is refused; the others of the batch still go in.
                    report.outcomes.append(FileOutcome(
                        name, Status.REFUSED, reason=f"cannot write it to the corpus: {error.strerror}",
                        code="cannot_write"))
                    if progress:
                        progress(name, len(data))
                    continue
                stat = target.stat()
                status = Status.UPDATED if record else Status.ADDED
                report.outcomes.append(_write_file(
                    txn.writer, name, data, stat.st_size, stat.st_mtime, status, articles))
                if progress:
                    progress(name, len(data))

    def remove(self, name: str) -> int:
        """Remove a file from the corpus and its passages from the index.

        Returns how many passages went. Raises :class:`NotInCorpus` when the
        corpus has no such file.
        """
        # The name as add stored it: ./X, sub/../X and X/. are X.
        source = names.source_name(name) or name
        # Only a report of this corpus: never a path out of it (../), nor the
        # dictionaries that sit beside the reports.
        path = self.corpus.path_of(source) if names.source_name(name) else None
        with self.transaction(keep_fingerprint=True) as txn:
            if path is not None and source not in txn.records and not path.is_file():
                # The name in another Unicode spelling (NFC, NFD) than the
                # report's: the name that looks the same.
                twins = [other for other in txn.records if names.nfc(other) == names.nfc(source)]
                if len(twins) == 1:
                    source = twins[0]
                    path = self.corpus.path_of(source)
            with txn.writer.searcher() as searcher:
                passages = sum(1 for _ in searcher.document_numbers(source=source))
            known = source in txn.records
            if path is None or not (known or (path.is_file() and is_supported(path))):
                raise NotInCorpus(source)
            txn.writer.delete_by_term("source", source)
            if path.is_file() and not path.is_symlink():
                self.versions.keep(source, path.read_bytes())  # restorable
        path.unlink(missing_ok=True)
        return max(passages - known, 0)

    def list_versions(self, name: str) -> list[Version]:
        """The kept earlier versions of a report, oldest first."""
        source = names.source_name(name)
        return self.versions.list(source) if source else []

    def restore(self, name: str, number: int | None = None) -> SyncReport:
        """Bring back version ``number`` (the latest when None) of a report and
        index it; the content it replaces is kept as a version in turn."""
        source = names.source_name(name)
        version = self.versions.get(source, number) if source else None
        if source is None or version is None:
            raise NoSuchVersion(name, number)
        data = version.path.read_bytes()
        if "/" not in source:
            return self.add_uploads([(source, data)])
        target = self.corpus_dir / source
        if target.is_file() and target.read_bytes() != data:
            self.versions.keep(source, target.read_bytes())
        write_atomically(target, data)
        return self.reindex([source])

    def reindex(self, sources: Iterable[str], progress: Progress | None = None) -> SyncReport:
        """Index these files anew from the corpus, in one commit (what repair does)."""
        report = SyncReport()
        with self.transaction() as txn:
            for source in sources:
                txn.writer.delete_by_term("source", source)
                path = self.corpus_dir / source
                if not path.is_file() or path.is_symlink():
                    report.outcomes.append(FileOutcome(source, Status.REMOVED))
                    continue
                try:
                    data = path.read_bytes()
                    stat = path.stat()
                except OSError as error:
                    report.outcomes.append(_unreadable(source, error))
                    continue
                report.outcomes.append(_write_file(
                    txn.writer, source, data, stat.st_size, stat.st_mtime, Status.UPDATED,
                    keep_unchanged=False))
                if progress:
                    progress(source, len(data))
        return report


def from_whoosh(error: BaseException) -> bool:
    """Whether ``error`` was raised inside Whoosh: reading a damaged index file
    makes it raise nearly anything (``Exception("Block tag error")``, struct,
    EOF, index errors)."""
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and "/whoosh/" in frames[-1].filename.replace("\\", "/")


def _index_files(folder: Path) -> set[str]:
    try:
        return {p.name for p in folder.iterdir()}
    except OSError:
        return set()


def _generation(names: Iterable[str]) -> int:
    """The newest TOC generation among these index file names (-1: none)."""
    generations = [-1]
    for name in names:
        if name.startswith("_MAIN_") and name.endswith(".toc"):
            try:
                generations.append(int(name[len("_MAIN_"):-len(".toc")]))
            except ValueError:
                pass
    return max(generations)


def _remove_new_files(folder: Path, before: set[str]) -> None:
    """Remove the files a failed commit wrote, unless its TOC made it in (then
    they are the index); ``MAIN.tmp/``, the folder Whoosh spills its posting
    pool to, included."""
    now = _index_files(folder)
    if _generation(now) > _generation(before):
        return
    for name in now - before:
        path = folder / name
        if name.endswith("WRITELOCK"):
            continue
        # A full disk while the pool spilled left MAIN.tmp/ behind, and
        # unlinking it raised IsADirectoryError over the disk_full (issue 19).
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass  # the failure being reported matters more than this file


def _cancel(writer: IndexWriter) -> None:
    try:
        writer.cancel()
    except Exception:  # noqa: BLE001 - after a failed commit Whoosh may be in any state
        lock = getattr(writer, "writelock", None)
        if lock is not None:
            try:
                lock.release()
            except Exception:  # noqa: BLE001
                pass


_CANNOT_WRITE = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT}


def _unwritable(folder: Path, error: OSError) -> ZhsearchError:
    """What an OSError while writing the index means: a read-only folder or a
    full disk, else a damaged index (a segment file gone or unreadable)."""
    if error.errno not in _CANNOT_WRITE:
        return IndexCorrupt(f"cannot read the index in {folder}: {error.strerror or error}")
    full = error.errno in (errno.ENOSPC, errno.EDQUOT)
    return IndexUnwritable(
        f"cannot write the index in {folder}: {error.strerror or error}",
        code="disk_full" if full else "index_read_only")


def _unreadable(source: str, error: OSError) -> FileOutcome:
    return FileOutcome(source, Status.REFUSED, reason=f"cannot read it: {error.strerror or error}",
                       code="cannot_read")


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


def _write_file(writer: IndexWriter, source: str, data: bytes, size: int,
                mtime: float, status: Status, articles: list[Article] | None = None,
                keep_unchanged: bool = True) -> FileOutcome:
    """Write one file's passages and its record; ``unchanged`` refreshes the record only."""
    record_id = file_record_id(source)
    if status == Status.UNCHANGED:
        # Touched, not changed: refresh the file record's mtime only.
        with writer.searcher() as searcher:
            old = searcher.document(id=record_id) or {}
        writer.delete_by_term("id", record_id)
        writer.add_document(id=record_id, kind=FILE, source=source,
                            file_hash=content_hash(data), size=size, mtime=mtime,
                            date=old.get("date"), info=old.get("info"))
        return FileOutcome(source, Status.UNCHANGED)
    if articles is None:
        try:
            articles = read_report_isolated(data, source)
        except UnsupportedFile as error:
            # Keep whatever the index already holds for this file.
            return FileOutcome.refused(error)
    digest = content_hash(data)
    # A date in the file name, else a date line of its own, else one in the opening text.
    date = date_from_name(source) or next((a.date for a in articles if a.date), None) \
        or date_from_text(_opening_text(articles))
    key = file_key(source)
    # A changed file keeps the passages that did not change: they are
    # neither deleted nor cut into words again.
    old = _indexed_passages(writer, source) if keep_unchanged else {}
    writer.delete_by_term("id", record_id)
    count = 0
    for a_no, article in enumerate(articles, start=1):
        for p_no, passage in enumerate(article.passages, start=1):
            passage_id = f"{key}-{a_no}-{p_no}"
            fields = passage_document(
                id=passage_id, kind=passage.kind, source=source,
                file_hash=digest, article=f"{key}-{a_no}", title=article.title,
                section=passage.section, byline=article.byline, paragraph=p_no,
                page=passage.page, date=date, text=passage.text,
            )
            count += 1
            previous = old.pop(passage_id, None)
            if previous is not None and all(
                    previous.get(k) == fields[k] for k in PASSAGE_FIELDS):
                continue
            if previous is not None:
                writer.delete_by_term("id", passage_id)
            writer.add_document(**fields)
    for stale_id in old:
        writer.delete_by_term("id", stale_id)
    writer.add_document(id=record_id, kind=FILE, source=source,
                        file_hash=digest, size=size, mtime=mtime, date=date,
                        info=json.dumps({"articles": len(articles), "passages": count}))
    return FileOutcome(source, status, passages=count)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _payload_bytes(name: str, payload: Path | bytes) -> bytes:
    """The bytes of one file of an add, refused before reading when too large."""
    if isinstance(payload, Path):
        if payload.is_symlink():
            # `add link.txt` copied the link's target (/etc/passwd became
            # searchable): name the file itself.
            raise names.symlink_refused(name)
        if not payload.is_file():
            raise UnsupportedFile(name, "no such file", code="no_such_file")
        refuse_if_too_large(name, payload.stat().st_size)
        payload = payload.read_bytes()
    refuse_if_too_large(name, len(payload))
    return payload


def _write_meta(writer: IndexWriter, fingerprint: str) -> None:
    writer.delete_by_term("kind", META)
    writer.add_document(id=META, kind=META, info=json.dumps({
        "analysis": fingerprint, "schema": SCHEMA_VERSION, "updated": time.time(),
    }))


def _opening_text(articles: list[Article]) -> str:
    """The first few passages, where a report states its date if it does."""
    passages = [p.text for a in articles[:1] for p in a.passages[:3]]
    return "\n".join(passages)
