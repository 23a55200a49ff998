"""Does merging an index change the known-item ranking? The top 10 of
``eval_known_item.py``'s queries on its index as written, and on copies merged.

    python benchmarks/eval_known_item.py CCTV_DIR --year 2022 --work WORK
    python benchmarks/eval_merged.py WORK [--count 300] [--seed 18] [--json OUT]

``WORK`` is the folder ``eval_known_item.py --work`` kept (``corpus/`` and
``index-zhsearch/``, the segments the bulk writer wrote, unmerged). Two
copies of that index are merged into one segment, once (kept in ``WORK``;
the bulk merge's copy also has its commit's own one-document segment, the
index's meta record, which holds no text):

- ``bulkmerge``: by :func:`indexer.bulkmerge.merge_segments`, what a
  zhsearch commit runs; it keeps each segment's exact total field length;
- ``whooshmerge``: by Whoosh 2.7.4's own merge (``writing.OPTIMIZE``), which
  sums the documents' one-byte length approximations instead: the field's
  total, and so BM25's average length, drift from the exact one.

The same queries (the same draw: ``--count``, ``--seed``) run on each index:
``zhsearch search``, ``--group article`` and ``--in title``. Printed: each
index's segments and total ``content`` length, the known-item figures, and
against the unmerged index, the queries whose top 10 differ and how much
the scores of the same passages differ.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402,F401  (puts this checkout first on sys.path)
from eval_known_item import TOP, Probe, probes, squeeze, subset_figures  # noqa: E402

MODES = {"default": {}, "grouped": {"group": "article"}, "title": {"scope": "title"}}
Top = list[tuple[str, float, str, str]]  # (passage id, score, source, title), best first


def merged_copy(work: Path, name: str) -> Path:
    """``WORK/index-NAME``: a copy of the unmerged index, merged into one
    segment by ``name``'s merge (made once, reused after)."""
    from whoosh import writing

    from indexer import bulkmerge
    from indexer.store import Store

    target = work / f"index-{name}"
    if target.exists():
        return target
    policy = {"bulkmerge": bulkmerge.OPTIMIZE, "whooshmerge": writing.OPTIMIZE}[name]
    partial = work / f"index-{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(work / "index-zhsearch", partial, copy_function=shutil.copy2)
    started = time.perf_counter()
    with Store(work / "corpus", partial).transaction() as txn:
        txn.writer.mergetype = policy  # this commit merges every segment
    print(f"{name}: merged in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    partial.rename(target)
    return target


def top10(work: Path, index: Path, items: list[Probe]) -> dict:
    from indexer.search import SearchService
    from indexer.store import Store

    service = SearchService(Store(work / "corpus", index), long_lived=False)
    reader = service.searcher().reader()
    tops: dict[str, dict[str, Top]] = {}
    for query in dict.fromkeys(p.query for p in items):
        tops[query] = {mode: [(h.id, h.score, h.source, squeeze(h.title))
                              for h in service.search(query, limit=TOP, **options).hits]
                       for mode, options in MODES.items()}
    return {"segments": len(list(reader.leaf_readers())),
            "field_length": reader.field_length("content"), "tops": tops}


def story_ranks(tops: dict, items: list[Probe], mode: str) -> list[int | None]:
    return [next((i for i, (_, _, source, title) in enumerate(tops[p.query][mode], 1)
                  if (source, title) == p.story), None) for p in items]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("work", type=Path, help="the --work folder of eval_known_item.py")
    parser.add_argument("--count", type=int, default=300, help="headlines drawn (default 300)")
    parser.add_argument("--seed", type=int, default=18, help="the draw's seed (default 18)")
    parser.add_argument("--json", type=Path, help="also write every top 10 here")
    args = parser.parse_args()

    items = probes(args.work / "corpus", args.count, args.seed)
    indexes = {"unmerged": args.work / "index-zhsearch"}
    for name in ("bulkmerge", "whooshmerge"):
        indexes[name] = merged_copy(args.work, name)
    found = {name: top10(args.work, index, items) for name, index in indexes.items()}

    distinct = len({p.query for p in items})
    print(f"{len(items)} queries ({distinct} distinct), seed {args.seed}; "
          "MRR@10 / s@1 identifying, answerable, all")
    print()
    print("| index | segments | content length | mode | identifying | answerable | all |")
    print("|---|---|---|---|---|---|---|")
    for name, r in found.items():
        for mode in MODES:
            ranks = story_ranks(r["tops"], items, mode)
            cells = ["{1:.3f} / {2:.3f}".format(*subset_figures(ranks, items, which))
                     for which in ("identifying", "answerable", "all")]
            print(f"| {name} | {r['segments']} | {r['field_length']:,} | {mode} | "
                  + " | ".join(cells) + " |")
    print()
    print("| against unmerged | mode | top 10 order differs | top 10 set differs "
          "| story rank changes | score difference, median / max |")
    print("|---|---|---|---|---|---|")
    base = found["unmerged"]["tops"]
    for name in ("bulkmerge", "whooshmerge"):
        tops = found[name]["tops"]
        for mode in MODES:
            order = sum(1 for q in base if [h[0] for h in base[q][mode]] != [h[0] for h in tops[q][mode]])
            kept = sum(1 for q in base if {h[0] for h in base[q][mode]} != {h[0] for h in tops[q][mode]})
            moved = sum(1 for a, b in zip(story_ranks(base, items, mode), story_ranks(tops, items, mode))
                        if a != b)
            diffs = [abs(score - was[pid]) / was[pid]
                     for q in base for was in [{h[0]: h[1] for h in base[q][mode]}]
                     for pid, score, _, _ in tops[q][mode] if was.get(pid)]
            print(f"| {name} | {mode} | {order} of {distinct} | {kept} | {moved} of {len(items)} | "
                  + (f"{statistics.median(diffs):.2%} / {max(diffs):.2%} |" if diffs else "— |"))
    if args.json:
        args.json.write_text(json.dumps(found, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
