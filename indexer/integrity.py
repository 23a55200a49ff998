"""Whether the index matches the corpus, repairing it when not, and what it holds.

``check`` compares every corpus file with its record in the index (content
hash, passage count) and looks for orphans; ``repair`` indexes the files it
named anew; ``stats`` counts from the file records, as the home page does.
"""

from __future__ import annotations

from indexer import arrays_format, evaluate, postings, snapshot
from indexer import stamp as stamps
from indexer.records import CorpusSummary, FileRecord, Problem, SyncReport, content_hash
from indexer.segmenter import LEXICON_FILE, RECIPE_FILE, verify_lexicon, verify_recipe
from indexer.errors import IndexCorrupt, ZhsearchError
from indexer.store import Progress, Store, from_whoosh


def check(store: Store, deep: bool = False) -> list[Problem]:
    """Every corpus file indexed once, with its current content; no orphans;
    with ``deep``, every segment readable to its end and the segmenter's
    recipe and lexicon recomputed.

    Raises :class:`IndexCorrupt` when a segment file is damaged (the hint is
    ``zhsearch index --rebuild``).
    """
    try:
        return _check(store, deep)
    except ZhsearchError:
        raise
    except Exception as error:  # noqa: BLE001 - a damaged segment raises nearly anything
        if not from_whoosh(error):
            raise
        raise IndexCorrupt.damaged(store.index_dir, error) from error


def _readable_to_the_end(searcher) -> None:
    """Read every posting list and every stored record of every segment: a
    truncated or overwritten postings or stored-fields file is found here, not
    by a user's search. Costs ~70 us a term (4.4-6.4 s for the 60,923 terms of
    120 news files), so only ``zhsearch check`` does it, not every ``index``."""
    for leaf, _ in searcher.reader().leaf_readers():
        for fieldname, text in leaf.all_terms():
            leaf.postings(fieldname, text).all_ids()
        for docnum in range(leaf.doc_count_all()):
            if not leaf.is_deleted(docnum):
                leaf.stored_fields(docnum)


def _check(store: Store, deep: bool) -> list[Problem]:
    problems: list[Problem] = []
    files = store.corpus_files()
    ix = store.open_index(create=False)
    with ix.searcher() as searcher:
        if deep:
            _readable_to_the_end(searcher)
        records = store.file_records(searcher)
        for source in sorted(set(files) - set(records)):
            problems.append(Problem(source, "in the corpus but not indexed"))
        for source in sorted(set(records) - set(files)):
            problems.append(Problem(source, "indexed but no longer in the corpus"))
        indexed_sources = {t.decode("utf-8") for t in searcher.reader().lexicon("source")}
        for source in sorted(indexed_sources - set(records)):
            if any(True for _ in searcher.document_numbers(source=source)):
                problems.append(Problem(source, "passages without a file record"))
        stamp_problem = _stamp_problem(store, searcher, records)
        if stamp_problem:
            problems.append(Problem(stamps.STAMP_FILE, stamp_problem))
        for source, record in sorted(records.items()):
            try:
                changed = source in files and \
                    content_hash(files[source].read_bytes()) != record.file_hash
            except OSError as error:
                problems.append(Problem(source, f"cannot be read: {error.strerror or error}"))
                continue
            if changed:
                problems.append(Problem(source, "changed since it was indexed"))
                continue
            expected = record.passages + 1  # the passages and the record
            held = sum(1 for _ in searcher.document_numbers(source=source))
            if held != expected:
                problems.append(Problem(
                    source, f"{held - 1} passages indexed, {expected - 1} expected"))
    # Derived data beside the index: the numbers rjieba was given, and the
    # arrays searches read (rebuilt from the segments, never trusted).
    if deep:
        # Recomputing the numbers loads jieba's whole dictionary: 0.9-1.0 s,
        # a tenth of `zhsearch index` of the 2022 news. The recipe is keyed by
        # the dictionaries and jieba's version, so only `zhsearch check` does it.
        recipe = verify_recipe(store.dictionaries(), store.index_dir)
        if recipe:
            problems.append(Problem(RECIPE_FILE, recipe))
    # The lexicon is checked whole here, recomputed by `zhsearch check` only.
    lexicon = verify_lexicon(store.dictionaries(), store.index_dir, recompute=deep)
    if lexicon:
        problems.append(Problem(LEXICON_FILE, lexicon))  # written anew already
    for found in postings.check(ix, store.index_dir):
        problems.append(Problem(found.name, f"search arrays {found.description}"))
    for shared in snapshot.check(ix, store.index_dir):
        problems.append(Problem(shared.name, f"search snapshot {shared.description}"))
    return problems


def _stamp_problem(store: Store, searcher, records: dict[str, FileRecord]) -> str | None:
    """What is wrong with the corpus stamp of the commit ``searcher`` reads
    (its ``records``, read by the caller); a stamp of another commit is never
    read, and none at all is no problem."""
    path = store.index_dir / stamps.STAMP_FILE
    if not path.exists():
        return None
    kept = stamps.read(store.index_dir)
    if kept is None:
        return "the corpus stamp is damaged (its checksum or its form is wrong)"
    right = store.stamp_of(searcher, records)
    if kept.commit != right.commit:
        return None
    wrong = stamps.differs(kept, right)
    return f"the corpus stamp {wrong}" if wrong else None


def _is_arrays(problem: Problem) -> bool:
    return problem.source.endswith((arrays_format.SUFFIX, snapshot.SUFFIX))


def repair(store: Store, problems: list[Problem], progress: Progress | None = None) -> SyncReport:
    """Index the files that :func:`check` found wrong anew, in one commit;
    rebuild the search arrays it found wrong from their segments."""
    if any(p.source == RECIPE_FILE for p in problems):
        return store.rebuild(progress=progress)[0]  # every passage was cut with its numbers
    if any(map(_is_arrays, problems)):
        ix = store.open_index(create=False)
        postings.check(ix, store.index_dir, repair=True)
        snapshot.check(ix, store.index_dir, repair=True)
    sources = sorted({p.source for p in problems
                      if not _is_arrays(p) and p.source not in (stamps.STAMP_FILE, LEXICON_FILE)})
    report = store.reindex(sources, progress) if sources else SyncReport()
    if any(p.source == stamps.STAMP_FILE for p in problems):
        store.write_stamp()  # derived from the records: written anew
    return report


def summary(store: Store) -> CorpusSummary:
    with store.open_index(create=False).searcher() as searcher:
        return CorpusSummary.of(store.file_records(searcher))


def stats(store: Store) -> dict:
    """Counts of files, articles and passages, and the index size on disk."""
    with store.open_index(create=False).searcher() as searcher:
        held = CorpusSummary.of(store.file_records(searcher))
        # From the arrays beside the segments: walking the lexicon reads
        # every term from the terms files (0.6 s on the 2022 subset).
        terms = len(evaluate.index_arrays(searcher, store.index_dir).words())
    size = sum(f.stat().st_size for f in store.index_dir.iterdir() if f.is_file())
    return {
        "corpus": str(store.corpus_dir), "index": str(store.index_dir),
        "files": held.files, "articles": held.articles, "passages": held.passages,
        "terms": terms, "index_bytes": size,
        "first_date": held.first_date, "last_date": held.last_date,
    }
