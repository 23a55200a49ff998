"""Where zhsearch spends its time: cProfile of indexing and of the slowest queries.

    python benchmarks/profile_engine.py index DATA_DIR [--subset 2022] [--max-bytes 1900000]
    python benchmarks/profile_engine.py queries CORPUS_DIR INDEX_DIR [--slowest 5]

``index`` profiles ``Store.sync`` over the first files of the subset that add
up to less than ``--max-bytes``: below ``PARALLEL_BYTES`` (2 MB) the store
writes in this process, so the profile sees all the work (above it, the
segmentation happens in MpWriter's forked workers, which cProfile does not
follow).

``queries`` times every query of ``queries.txt`` warm against an existing
zhsearch index (e.g. the one ``run.py --workdir`` keeps), then profiles the
slowest ones, each run ``--repeat`` times.

Both print the functions with the most own time, their share of the total,
and the total grouped by package (jieba, whoosh, each indexer module, …).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median, read_queries, report_files  # noqa: E402


def area(filename: str, function: str) -> str:
    """The package or module a profiled function belongs to."""
    if filename == "~":
        return "builtins: " + function.split(" of ")[0].strip("<>{}").replace("built-in method ", "")
    for package in ("jieba", "whoosh", "indexer", "opencc", "re"):
        marker = f"/{package}/"
        if marker in filename:
            rest = filename.split(marker, 1)[1].removesuffix(".py").replace("/", ".")
            return f"{package}.{rest}" if package in ("whoosh", "indexer") else package
    return Path(filename).name


def report(profile: cProfile.Profile, top: int, title: str) -> None:
    stats = pstats.Stats(profile)
    entries = stats.stats  # (file, line, function) -> (cc, calls, own, cumulative, callers)
    total = sum(own for _, _, own, _, _ in entries.values()) or 1e-9
    print(f"\n## {title}: {total:.2f} s of profiled CPU time\n")
    print("| own time, s | share | calls | function |")
    print("|---|---|---|---|")
    ranked = sorted(entries.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    for (filename, line, function), (_, calls, own, _, _) in ranked:
        where = f"{area(filename, function)}:{line}" if filename != "~" else "builtin"
        print(f"| {own:.2f} | {own / total:.1%} | {calls:,} | `{function}` ({where}) |")
    by_area: dict[str, float] = defaultdict(float)
    for (filename, _, function), (_, _, own, _, _) in entries.items():
        by_area[area(filename, function)] += own
    print("\n| package or module | own time, s | share |")
    print("|---|---|---|")
    for name, own in sorted(by_area.items(), key=lambda kv: kv[1], reverse=True)[:top]:
        print(f"| {name} | {own:.2f} | {own / total:.1%} |")
    print("\nCumulative time of the main steps:\n")
    print("| cumulative, s | share | calls | function |")
    print("|---|---|---|---|")
    cumulative = sorted(
        ((key, value) for key, value in entries.items()
         if "/indexer/" in key[0] or "/whoosh/" in key[0]),
        key=lambda kv: kv[1][3], reverse=True)[:top]
    for (filename, line, function), (_, calls, _, cum, _) in cumulative:
        print(f"| {cum:.2f} | {cum / total:.1%} | {calls:,} | `{function}` "
              f"({area(filename, function)}:{line}) |")


def profile_index(data_dir: Path, subset: str, max_bytes: int, top: int) -> None:
    from indexer import integrity
    from indexer.store import PARALLEL_BYTES, Store

    max_bytes = min(max_bytes, PARALLEL_BYTES)
    work = Path(tempfile.mkdtemp(prefix="zhsearch-profile-"))
    try:
        corpus = work / "corpus"
        corpus.mkdir()
        chosen = 0
        for _, path in report_files(data_dir):
            if not path.name.startswith(subset):
                continue
            size = path.stat().st_size
            if chosen + size >= max_bytes:
                break
            os.link(path.resolve(), corpus / path.name)  # zhsearch indexes no symbolic links
            chosen += size
        files = len(report_files(corpus))
        store = Store(corpus, work / "index")
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        store.sync()
        profile.disable()
        wall = time.perf_counter() - started
        print(f"Store.sync of {files} files, {chosen / 1e6:.2f} MB, one process: "
              f"{wall:.1f} s wall ({chosen / 1e6 / wall:.3f} MB/s under the profiler), "
              f"{integrity.stats(store)['passages']:,} passages")
        report(profile, top, "indexing")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def profile_queries(corpus: Path, index_dir: Path, slowest: int, repeat: int, top: int) -> None:
    from indexer.search import SearchService
    from indexer.store import Store

    service = SearchService(Store(corpus, index_dir))
    queries = read_queries()
    for query in queries:  # warm-up
        service.search(query, limit=10)
    timings = {}
    for query in queries:
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            service.search(query, limit=10)
            runs.append((time.perf_counter() - started) * 1000)
        timings[query] = median(runs)
    worst = sorted(queries, key=timings.get, reverse=True)[:slowest]
    print("| query | warm median ms | total hits |")
    print("|---|---|---|")
    for query in worst:
        print(f"| {query} | {timings[query]:.1f} | {service.search(query, limit=10).total} |")
    for query in worst:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(repeat):
            service.search(query, limit=10)
        profile.disable()
        report(profile, top, f"query {query!r} ×{repeat}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("index")
    p.add_argument("data_dir", type=Path)
    p.add_argument("--subset", default="2022")
    p.add_argument("--max-bytes", type=int, default=1_900_000)
    p.add_argument("--top", type=int, default=20)
    p = sub.add_parser("queries")
    p.add_argument("corpus", type=Path)
    p.add_argument("index", type=Path)
    p.add_argument("--slowest", type=int, default=5)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    if args.command == "index":
        profile_index(args.data_dir, args.subset, args.max_bytes, args.top)
    else:
        profile_queries(args.corpus, args.index, args.slowest, args.repeat, args.top)


if __name__ == "__main__":
    main()
