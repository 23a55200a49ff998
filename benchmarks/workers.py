"""Child processes of ``run.py``: each engine indexes and answers queries in a process of its own.

A process per engine keeps jieba's global dictionary apart (zhsearch loads its
user dictionary into it) and lets ``run.py`` measure each indexing process
tree's memory on its own.

    python benchmarks/workers.py index {zhsearch,baseline} CORPUS INDEX
        indexes, prints {"seconds": …, "passages": …}
    python benchmarks/workers.py queries {zhsearch,baseline} CORPUS INDEX QUERIES
        loads the index, prints "ready", then for every line read from stdin
        runs each query once and prints one JSON list of
        {"ms": …, "hits": …, "total": …, "error": …}
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import read_queries  # noqa: E402

Search = Callable[[str], tuple[int, int | None]]  # query -> (hits shown, total)


def index(engine: str, corpus: Path, index_dir: Path) -> dict:
    """Whole folder to committed index; the clock includes loading jieba."""
    started = time.perf_counter()
    if engine == "zhsearch":
        from indexer import integrity
        from indexer.store import Store

        store = Store(corpus, index_dir)
        store.sync()
        seconds = time.perf_counter() - started
        passages = integrity.stats(store)["passages"]
    else:
        import baseline
        from common import iter_passages

        passages = baseline.build_index(iter_passages(corpus), index_dir)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "passages": passages}


def searcher(engine: str, corpus: Path, index_dir: Path) -> Search:
    """A function running one query, search plus highlighting of the top 10."""
    if engine == "zhsearch":
        from indexer.search import SearchService
        from indexer.store import Store

        service = SearchService(Store(corpus, index_dir))

        def run(query: str) -> tuple[int, int | None]:
            result = service.search(query, limit=10)
            return len(result.hits), result.total
    else:
        import baseline

        engine_ = baseline.BaselineSearch(index_dir)

        def run(query: str) -> tuple[int, int | None]:
            return len(engine_.search(query, limit=10)), None
    return run


def serve_queries(engine: str, corpus: Path, index_dir: Path, queries_file: Path) -> None:
    run = searcher(engine, corpus, index_dir)
    queries = read_queries(queries_file)
    print("ready", flush=True)
    for _ in sys.stdin:
        timings = []
        for query in queries:
            started = time.perf_counter()
            hits = total = error = None
            try:
                hits, total = run(query)
            except Exception as exc:  # a crash is a finding, not the end of the benchmark
                error = f"{type(exc).__name__}: {exc}"
            timings.append({"ms": (time.perf_counter() - started) * 1000,
                            "hits": hits, "total": total, "error": error})
        print(json.dumps(timings, ensure_ascii=False), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("job", choices=["index", "queries"])
    parser.add_argument("engine", choices=["zhsearch", "baseline"])
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
