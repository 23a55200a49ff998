"""Known-item keyword search (issue 18): type two words of a story's headline, find the story.

    python benchmarks/eval_known_item.py CCTV_DIR [--year 2022] [--count 300] [--seed 18]

The corpus is one year of the news folder (``YEAR*.md``, hard links in a
temporary folder). From every ``###`` headline of that year, ``--count`` are
drawn at random (seed fixed). A headline's query is its two most distinctive
words (jieba's TF-IDF over nouns and verbs), typed with a space between them
as a user would; a headline with fewer than two such words is dropped. The
story is found when a hit of its article (the same file, the same title) is
among the first 10; its reciprocal rank is 1 / the rank of the first such hit.

Three subsets are scored apart:

- *all*: every drawn headline with a query;
- *answerable*: the headline stands in at most two files of the year
  (``国内联播快讯`` in 200 files names no one story);
- *identifying*: answerable, and the query's two words stand together, as
  plain text, in at most two headlines of the year (``习近平 会见`` stands in
  dozens, where no engine can tell the twins apart).

Engines, on identical passages and queries, in one run:

- zhsearch, the default search (``SearchService.search``: what ``zhsearch
  search`` and ``/api/search`` run), ungrouped and grouped by article;
- zhsearch ``--in title``: the article titles alone;
- SQLite FTS5 BM25 over jieba words (``peers.py``), one row per passage.

The references run first, on stock jieba: creating a ``Store`` loads
zhsearch's user dictionary into jieba's global state.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jieba
import jieba.analyse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import engine_version, link_subset, load_average, report_files  # noqa: E402
from peers import Fts5Search, words  # noqa: E402

TOP = 10
# Nouns and verbs, as the protocol names them (jieba's tags).
_POS = ("n", "nr", "ns", "nt", "nz", "nrt", "v", "vn")
_HEADLINE = re.compile(r"^###[ \t]+(.+?)\s*$", re.MULTILINE)

Story = tuple[str, str]              # (source, headline without blanks)
Ranker = Callable[[str], list[Story]]  # query -> the stories of the top hits, best first


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@dataclass
class Probe:
    query: str
    story: Story
    answerable: bool
    identifying: bool


def headlines(corpus: Path) -> list[Story]:
    """Every ``###`` headline of the corpus with its file, in file order."""
    found = []
    for source, path in report_files(corpus):
        for match in _HEADLINE.finditer(path.read_text(encoding="utf-8", errors="replace")):
            found.append((source, match.group(1).strip()))
    return found


def probes(corpus: Path, count: int, seed: int) -> list[Probe]:
    every = headlines(corpus)
    files_of: dict[str, set[str]] = {}
    for source, title in every:
        files_of.setdefault(squeeze(title), set()).add(source)
    titles = list(files_of)
    drawn = random.Random(seed).sample(every, min(count, len(every)))
    made = []
    for source, title in drawn:
        tags = jieba.analyse.extract_tags(title, topK=2, allowPOS=_POS)
        if len(tags) < 2:
            continue
        together = sum(1 for t in titles if all(tag in t for tag in tags))
        answerable = len(files_of[squeeze(title)]) <= 2
        made.append(Probe(" ".join(tags), (source, squeeze(title)), answerable,
                          answerable and together <= 2))
    return made


def score(rank: Ranker, items: list[Probe]) -> dict:
    ranks: list[int | None] = []
    started = time.perf_counter()
    for probe in items:
        stories = rank(probe.query)[:TOP]
        ranks.append(next((i for i, s in enumerate(stories, 1) if s == probe.story), None))
    return {"ranks": ranks, "seconds": time.perf_counter() - started}


def subset_figures(ranks: list[int | None], items: list[Probe], which: str) -> tuple[int, float, float]:
    chosen = [r for r, p in zip(ranks, items)
              if which == "all" or (which == "answerable" and p.answerable)
              or (which == "identifying" and p.identifying)]
    n = max(len(chosen), 1)
    return len(chosen), sum(1 / r for r in chosen if r) / n, sum(1 for r in chosen if r == 1) / n


# -- FTS5 BM25, one row per passage, with its article ------------------------------------


def fts5_ranker(corpus: Path, folder: Path) -> Ranker:
    from common import passages_with_articles

    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / "fts5.db")
    db.executescript("""
        CREATE TABLE passage(id INTEGER PRIMARY KEY, source TEXT, title TEXT);
        CREATE VIRTUAL TABLE fts USING fts5(words, content='', tokenize='unicode61');
    """)
    with db:
        for n, (source, title, text) in enumerate(passages_with_articles(corpus), 1):
            db.execute("INSERT INTO passage VALUES (?, ?, ?)", (n, source, squeeze(title)))
            db.execute("INSERT INTO fts(rowid, words) VALUES (?, ?)", (n, " ".join(words(text))))
    with db:
        db.execute("INSERT INTO fts(fts) VALUES ('optimize')")

    def rank(query: str) -> list[Story]:
        match = Fts5Search.match(query)
        if match is None:
            return []
        rows = db.execute(
            "SELECT p.source, p.title FROM (SELECT rowid, rank FROM fts WHERE fts MATCH ? "
            "ORDER BY rank LIMIT ?) AS m JOIN passage AS p ON p.id = m.rowid ORDER BY m.rank",
            (match[0], TOP)).fetchall()
        return [(s, t) for s, t in rows]
    return rank


# -- zhsearch ------------------------------------------------------------------------------


def zhsearch_rankers(corpus: Path, index_dir: Path) -> dict[str, Ranker]:
    from indexer.search import SearchService
    from indexer.store import Store

    store = Store(corpus, index_dir)
    store.sync()
    service = SearchService(store, long_lived=False)

    def ranker(**options) -> Ranker:
        return lambda query: [(h.source, squeeze(h.title))
                              for h in service.search(query, limit=TOP, **options).hits]
    return {"zhsearch": ranker(), "zhsearch_grouped": ranker(group="article"),
            "title_only": ranker(scope="title")}


LABELS = {
    "zhsearch": "zhsearch, default search (`zhsearch search`)",
    "zhsearch_grouped": "zhsearch, one hit per article (`--group article`, the web page)",
    "title_only": "zhsearch `--in title` (titles alone)",
    "fts5": "SQLite FTS5 BM25 over jieba words, one row per passage",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cctv_dir", type=Path)
    parser.add_argument("--year", default="2022", help="the year of the corpus (default 2022)")
    parser.add_argument("--count", type=int, default=300, help="headlines drawn (default 300)")
    parser.add_argument("--seed", type=int, default=18, help="the draw's seed (default 18)")
    parser.add_argument("--work", type=Path,
                        help="keep the corpus and indexes here (reused when present)")
    parser.add_argument("--json", type=Path, help="also write every query and rank here")
    args = parser.parse_args()

    version = engine_version()
    load = load_average()
    work = args.work or Path(tempfile.mkdtemp(prefix="zhsearch-known-"))
    try:
        corpus = work / "corpus"
        if not corpus.exists():
            link_subset(args.cctv_dir, f"{args.year}*.md", corpus)
        items = probes(corpus, args.count, args.seed)
        results = {}
        started = time.perf_counter()
        fts = fts5_ranker(corpus, work / f"fts5-{time.time_ns()}")
        print(f"fts5 index {time.perf_counter() - started:.0f} s", file=sys.stderr)
        results["fts5"] = score(fts, items)
        started = time.perf_counter()
        rankers = zhsearch_rankers(corpus, work / "index-zhsearch")
        print(f"zhsearch index {time.perf_counter() - started:.0f} s", file=sys.stderr)
        for name, rank in rankers.items():
            results[name] = score(rank, items)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)



    print(f"zhsearch at {version}; {args.year} files of the news folder; {len(items)} of "
          f"{args.count} headlines have a two-word query (seed {args.seed}); load {load}")
    print()
    head = []
    for which in ("identifying", "answerable", "all"):
        n = subset_figures([None] * len(items), items, which)[0]
        head.append(f"{which} ({n}) MRR@10 / s@1")
    print("| engine | " + " | ".join(head) + " | s / query |")
    print("|---|---|---|---|---|")
    for name in ("zhsearch", "zhsearch_grouped", "title_only", "fts5"):
        r = results[name]
        cells = []
        for which in ("identifying", "answerable", "all"):
            _, mrr, s1 = subset_figures(r["ranks"], items, which)
            cells.append(f"{mrr:.3f} / {s1:.3f}")
        print(f"| {LABELS[name]} | " + " | ".join(cells)
              + f" | {r['seconds'] / max(len(items), 1):.4f} |")

    if args.json:
        payload = [{"query": p.query, "story": p.story, "answerable": p.answerable,
                    "identifying": p.identifying,
                    **{name: results[name]["ranks"][i] for name in results}}
                   for i, p in enumerate(items)]
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
