"""Child processes of ``run.py``: each engine indexes and answers queries in a process of its own.

A process per engine keeps jieba's global dictionary apart (zhsearch loads its
user dictionary into it) and lets ``run.py`` measure each process tree's
memory on its own.

    python benchmarks/workers.py index ENGINE CORPUS INDEX
        indexes, prints {"seconds": …, "passages": …}
    python benchmarks/workers.py queries ENGINE CORPUS INDEX QUERIES
        loads the index, prints "ready", then answers one JSON line per
        command line read from stdin:
        round  each query once: [{"ms", "hits", "total", "error"}, …]
        keys   each query's whole set of matching passages, as
               ``common.passage_key`` names (outside any clock): [[key, …], …]
        equiv  zhsearch only: its two evaluations side by side (see
               ``equivalence``): {"available": bool, "mismatches": […]}

ENGINE is one of ``ENGINES``: zhsearch, baseline (the jieba README's Whoosh
example), fts5, tantivy, scan (see ``peers.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import passage_key, read_queries  # noqa: E402

ENGINES = ("zhsearch", "baseline", "fts5", "tantivy", "scan")
Search = Callable[[str], tuple[int, int | None]]  # query -> (hits shown, total)


def index(engine: str, corpus: Path, index_dir: Path) -> dict:
    """Whole folder to committed index; the clock includes loading jieba and reading the files."""
    started = time.perf_counter()
    if engine == "zhsearch":
        from indexer.store import Store

        store = Store(corpus, index_dir)
        store.sync()
        seconds = time.perf_counter() - started
        try:  # main since a36fd87: the counts live in indexer.integrity
            from indexer.integrity import stats
        except ImportError:
            stats = Store.stats
        passages = stats(store)["passages"]
    elif engine == "scan":
        raise ValueError("the scan has no index")
    else:
        from common import iter_passages

        if engine == "baseline":
            import baseline

            build = baseline.build_index
        else:
            import peers

            build = peers.fts5_index if engine == "fts5" else peers.tantivy_index
        passages = build(iter_passages(corpus), index_dir)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "passages": passages}


def result_fields(result) -> tuple[list, int]:
    """Hits and total of a search: a ``SearchResult`` (main since 87c66d2) or the older dict."""
    if isinstance(result, dict):
        return result["hits"], result["total"]
    return result.hits, result.total


def hit_field(hit, name: str):
    """One field of a hit: a ``Hit`` object or the older dict."""
    return hit[name] if isinstance(hit, dict) else getattr(hit, name)


class Engine:
    """One engine's warm query functions: ``search`` is timed, ``keys`` is not."""

    def __init__(self, name: str, corpus: Path, index_dir: Path):
        self.name = name
        self.service = None
        if name == "zhsearch":
            from indexer.search import SearchService
            from indexer.store import Store

            self.service = SearchService(Store(corpus, index_dir))
        elif name == "baseline":
            import baseline

            self.baseline = baseline.BaselineSearch(index_dir)
        else:
            import peers

            self.peer = {"fts5": lambda: peers.Fts5Search(index_dir),
                         "tantivy": lambda: peers.TantivySearch(index_dir),
                         "scan": lambda: peers.ScanSearch(corpus)}[name]()

    def search(self, query: str) -> tuple[int, int | None]:
        """Search plus highlighting of the top 10, and the exact total where the engine gives it.

        The README example gives no total (its ``len(results)`` would run the
        query again): it is timed as the README has it, its total comes from
        ``keys``. zhsearch's highlight is rendered as the web renders it.
        """
        if self.service is not None:
            result = self.service.search(query, limit=10)
            hits, total = result_fields(result)
            for hit in hits:
                hit_field(hit, "highlight")
            return len(hits), total
        if self.name == "baseline":
            return len(self.baseline.search(query, limit=10)), None
        return self.peer.search(query, limit=10)

    def keys(self, query: str) -> list[str]:
        """Every passage the engine finds for ``query``, named by ``passage_key``."""
        if self.service is not None:
            hits, _ = result_fields(self.service.search(query, limit=0))
            return [passage_key(hit_field(h, "source"), hit_field(h, "text")) for h in hits]
        if self.name == "baseline":
            b = self.baseline
            results = b._searcher().search(b.parser.parse(query), limit=None)
            return [passage_key(hit["path"], hit["content"]) for hit in results]
        return self.peer.keys(query)


# -- equivalence of zhsearch's two evaluations --------------------------------------------


def reference_service(service):
    """A SearchService on the same store evaluating with Whoosh, the
    reference the array evaluation is compared with (tests/reference.py)."""
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from tests.reference import WhooshService

    return WhooshService(service.store)


# Scores are rounded to 3 decimals in the JSON; two evaluations summing BM25 in
# another order may round the same score either way.
SCORE_TOLERANCE = 0.0015


def top_differs(ours: list, theirs: list) -> bool:
    """True when two top-10 lists differ by more than the order of equal scores.

    Equal scores may come in any order, and a tie at the last place shown
    may be cut either way: compare the scores, and the passages scored
    above the lowest score shown.
    """
    if len(ours) != len(theirs):
        return True
    ours = [(hit_field(h, "id"), hit_field(h, "score")) for h in ours]
    theirs = [(hit_field(h, "id"), hit_field(h, "score")) for h in theirs]
    if not ours:
        return False
    if ours[0][1] is None or theirs[0][1] is None:  # sorted by date: the order is the result
        return ours != theirs
    if any(abs(a[1] - b[1]) > SCORE_TOLERANCE for a, b in zip(ours, theirs)):
        return True
    lowest = min(score for _, score in ours + theirs)

    def above(hits: list[tuple[str, float]]) -> list[str]:
        return sorted(id_ for id_, score in hits if score > lowest + SCORE_TOLERANCE)

    return above(ours) != above(theirs)


def equivalence(service, queries: list[str]) -> dict:
    """Total and top 10 of both evaluations for every query; the queries where they differ."""
    reference = reference_service(service)
    if reference is None:
        return {"available": False, "mismatches": []}
    mismatches = []
    for query in queries:
        ours, total = result_fields(service.search(query, limit=10))
        theirs, reference_total = result_fields(reference.search(query, limit=10))
        if total != reference_total or top_differs(ours, theirs):
            mismatches.append({
                "query": query, "total": total, "reference_total": reference_total,
                "top": [(hit_field(h, "id"), hit_field(h, "score")) for h in ours],
                "reference_top": [(hit_field(h, "id"), hit_field(h, "score")) for h in theirs]})
    return {"available": True, "mismatches": mismatches}


def serve_queries(name: str, corpus: Path, index_dir: Path, queries_file: Path) -> None:
    engine = Engine(name, corpus, index_dir)
    queries = read_queries(queries_file)
    print("ready", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "keys":
            found = []
            for query in queries:
                try:
                    found.append(sorted(set(engine.keys(query))))
                except Exception:  # counted as a crash in the round already
                    found.append(None)
            print(json.dumps(found), flush=True)
            continue
        if command == "equiv":
            found = (equivalence(engine.service, queries) if engine.service is not None
                     else {"available": False, "mismatches": []})
            print(json.dumps(found, ensure_ascii=False), flush=True)
            continue
        timings = []
        for query in queries:
            started = time.perf_counter()
            hits = total = error = None
            try:
                hits, total = engine.search(query)
            except Exception as exc:  # a crash is a finding, not the end of the benchmark
                error = f"{type(exc).__name__}: {exc}"
            timings.append({"ms": (time.perf_counter() - started) * 1000,
                            "hits": hits, "total": total, "error": error})
        print(json.dumps(timings, ensure_ascii=False), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("job", choices=["index", "queries"])
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("index", type=Path)
    parser.add_argument("queries", type=Path, nargs="?")
    args = parser.parse_args()
    if args.job == "index":
        print(json.dumps(index(args.engine, args.corpus, args.index)), flush=True)
    else:
        serve_queries(args.engine, args.corpus, args.index, args.queries)


if __name__ == "__main__":
    main()
