"""Search-quality evaluation of issue 4 on the CMRC 2018 trial set.

    python benchmarks/eval_cmrc.py CMRC_JSON CCTV_DIR [--limit-questions N] [--no-distractors]

Every CMRC context becomes a report file of its own (``cmrc/<context_id>.txt``
in a temporary corpus), next to the 2022 daily news files as distractors
(hard links, never copies). Every question is run as typed; a hit is
relevant when its passage comes from that question's context file. Three
systems, on identical passages and questions, in one run:

- zhsearch: ``Store.sync`` (the normal ingestion) and ``SearchService.search``
  (the function the CLI and the web use) in its default query mode;
- the jieba README's Whoosh example (``benchmarks/baseline.py``), default
  ``QueryParser``;
- plain BM25 (``rank_bm25.BM25Okapi``) over jieba ``cut_for_search`` tokens.

The two references run first, on stock jieba: creating a ``Store`` loads
zhsearch's user dictionary into jieba's global state for the rest of the process.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jieba

sys.path.insert(0, str(Path(__file__).resolve().parent))
import baseline  # noqa: E402
from common import engine_version, iter_passages, link_subset  # noqa: E402

TOP = 10
# A BM25 token is a word: jieba also returns spaces and punctuation as tokens.
_WORDISH = re.compile(r"\w")

Ranker = Callable[[str], list[str]]  # question -> sources of the top hits, best first


def build_corpus(items: list[dict], cctv_dir: Path | None, corpus: Path,
                 distractors: str = "2022*") -> None:
    contexts = corpus / "cmrc"
    contexts.mkdir(parents=True)
    for item in items:
        (contexts / f"{item['context_id']}.txt").write_text(item["context_text"], encoding="utf-8")
    if cctv_dir is not None:
        link_subset(cctv_dir, distractors, corpus / "cctv")


def questions_of(items: list[dict], limit: int | None) -> list[tuple[str, str]]:
    """``(question, relevant source)`` in file order, the first ``limit`` of them."""
    pairs = [(qa["query_text"], f"cmrc/{item['context_id']}.txt")
             for item in items for qa in item["qas"]]
    return pairs[:limit] if limit else pairs


def bm25_tokens(text: str) -> list[str]:
    return [t.lower() for t in jieba.cut_for_search(text) if _WORDISH.search(t)]


def bm25_ranker(passages: list[tuple[str, str]]) -> Ranker:
    import numpy as np
    from rank_bm25 import BM25Okapi

    bm25 = BM25Okapi([bm25_tokens(text) for _, text in passages])
    sources = [source for source, _ in passages]

    def rank(question: str) -> list[str]:
        scores = bm25.get_scores(bm25_tokens(question))
        top = np.argsort(-scores, kind="stable")[:TOP]
        return [sources[i] for i in top if scores[i] > 0]
    return rank


def baseline_ranker(passages: list[tuple[str, str]], index_dir: Path) -> Ranker:
    baseline.build_index(passages, index_dir)
    engine = baseline.BaselineSearch(index_dir)
    return lambda question: [h["source"] for h in engine.search(question, TOP, highlights=False)]


def zhsearch_ranker(corpus: Path, index_dir: Path) -> Ranker:
    from indexer.search import SearchService
    from indexer.store import Store

    store = Store(corpus, index_dir)
    store.sync()
    service = SearchService(store)
    # The search call includes highlighting, as for the CLI and the web.
    return lambda question: [h.source for h in service.search(question, limit=TOP).hits]


def evaluate(rank: Ranker, questions: list[tuple[str, str]]) -> dict:
    """MRR@10, Recall@1 and Recall@10, with the rank of every question's first relevant hit."""
    ranks: list[int | None] = []
    errors: list[str] = []
    empty = 0
    started = time.perf_counter()
    for question, relevant in questions:
        try:
            sources = rank(question)
        except Exception as exc:  # counted as a miss, and reported
            errors.append(f"{question}: {type(exc).__name__}: {exc}")
            ranks.append(None)
            continue
        empty += not sources
        ranks.append(next((i for i, s in enumerate(sources[:TOP], 1) if s == relevant), None))
    n = max(len(questions), 1)
    return {
        "mrr@10": sum(1 / r for r in ranks if r) / n,
        "recall@1": sum(1 for r in ranks if r == 1) / n,
        "recall@10": sum(1 for r in ranks if r) / n,
        "no_hits": empty, "errors": errors, "ranks": ranks,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cmrc_json", type=Path)
    parser.add_argument("cctv_dir", type=Path)
    parser.add_argument("--limit-questions", type=int, metavar="N",
                        help="only the first N questions (all contexts are still indexed)")
    parser.add_argument("--no-distractors", action="store_true",
                        help="index the CMRC contexts alone")
    parser.add_argument("--distractors", default="2022*",
                        help="file pattern of the distractor files (default 2022*)")
    parser.add_argument("--json", type=Path, help="also write the figures and every rank here")
    args = parser.parse_args()

    version = engine_version()
    items = json.loads(args.cmrc_json.read_text(encoding="utf-8"))
    questions = questions_of(items, args.limit_questions)
    work = Path(tempfile.mkdtemp(prefix="zhsearch-eval-"))
    try:
        corpus = work / "corpus"
        build_corpus(items, None if args.no_distractors else args.cctv_dir, corpus,
                     args.distractors)
        passages = list(iter_passages(corpus))
        files = sum(1 for _ in {s for s, _ in passages})
        print(f"{len(items)} contexts + {files - len(items)} distractor files, "
              f"{len(passages):,} passages, {len(questions)} questions", file=sys.stderr)
        results = {}
        for name, make in (
            ("bm25", lambda: bm25_ranker(passages)),
            ("readme", lambda: baseline_ranker(passages, work / "index-baseline")),
            ("zhsearch", lambda: zhsearch_ranker(corpus, work / "index-zhsearch")),
        ):
            started = time.perf_counter()
            rank = make()
            built = time.perf_counter() - started
            results[name] = evaluate(rank, questions) | {"index_seconds": built}
            r = results[name]
            print(f"{name}: MRR@10 {r['mrr@10']:.3f}, index {built:.0f} s, "
                  f"questions {r['seconds']:.0f} s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if engine_version() != version:  # the engine was edited while we measured
        version += f" (changed to {engine_version()} during the run)"
    labels = {
        "zhsearch": "zhsearch, default query mode (`SearchService.search`)",
        "readme": "jieba README Whoosh example, default `QueryParser`",
        "bm25": "plain BM25 (rank-bm25) over jieba `cut_for_search` tokens",
    }
    print(f"zhsearch at {version}; CMRC 2018 trial: {len(items)} contexts"
          + ("" if args.no_distractors else f" + {files - len(items)} distractor files")
          + f", {len(passages):,} passages, {len(questions)} questions")
    print()
    print("| system | MRR@10 | Recall@1 | Recall@10 | no hits | errors | s / question |")
    print("|---|---|---|---|---|---|---|")
    for name in ("zhsearch", "readme", "bm25"):
        r = results[name]
        print(f"| {labels[name]} | {r['mrr@10']:.3f} | {r['recall@1']:.3f} | "
              f"{r['recall@10']:.3f} | {r['no_hits']} | {len(r['errors'])} | "
              f"{r['seconds'] / max(len(questions), 1):.3f} |")
    z = results["zhsearch"]
    print()
    print(f"targets (issue 4): MRR@10 ≥ 0.90 {'met' if z['mrr@10'] >= 0.90 else 'NOT met'}, "
          f"Recall@10 ≥ 0.96 {'met' if z['recall@10'] >= 0.96 else 'NOT met'}")
    for name in results:
        for error in results[name]["errors"][:5]:
            print(f"- {name} error: {error}")
    if args.json:
        payload = {"questions": [q for q, _ in questions], "relevant": [s for _, s in questions],
                   "results": results}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
