"""The reference implementation: the jieba README's Whoosh example.

    analyzer = ChineseAnalyzer()
    schema = Schema(title=TEXT(stored=True), path=ID(stored=True),
                    content=TEXT(stored=True, analyzer=analyzer))
    writer = ix.writer(); writer.add_document(...); writer.commit()
    parser = QueryParser("content", schema=ix.schema)
    for hit in searcher.search(parser.parse(keyword)): hit.highlights("content")

One Whoosh document per passage. The passages are the ones zhsearch indexes
(``indexer.readers.read_report``, every passage of every article), so both
engines index identical text. ``path`` holds the passage's corpus file, as in
the README; it is needed to tell which file a hit came from.

Run it in its own process (``python benchmarks/baseline.py …``): jieba's
dictionary is global, and zhsearch loads its user dictionary into it.

    python benchmarks/baseline.py index CORPUS_DIR INDEX_DIR
    python benchmarks/baseline.py search INDEX_DIR QUERY
    python benchmarks/baseline.py serve INDEX_DIR --port N   # GET /api/search?q=…&limit=10
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import parse_qs

import jieba
from jieba.analyse import ChineseAnalyzer
from whoosh.fields import ID, TEXT, Schema
from whoosh.index import create_in, open_dir
from whoosh.qparser import QueryParser

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import iter_passages  # noqa: E402

jieba.setLogLevel(logging.WARNING)


def build_schema() -> Schema:
    return Schema(path=ID(stored=True), content=TEXT(stored=True, analyzer=ChineseAnalyzer()))


def build_index(passages: Iterable[tuple[str, str]], index_dir: Path) -> int:
    """Index ``(source, text)`` pairs with the default writer; returns how many."""
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = create_in(str(index_dir), build_schema())
    writer = ix.writer()
    count = 0
    for source, text in passages:
        writer.add_document(path=source, content=text)
        count += 1
    writer.commit()
    return count


class BaselineSearch:
    """Search plus highlighting of the top hits; one Whoosh searcher per thread."""

    def __init__(self, index_dir: Path):
        self.ix = open_dir(str(index_dir))
        self.parser = QueryParser("content", schema=self.ix.schema)
        self._local = threading.local()

    def _searcher(self):
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            searcher = self._local.searcher = self.ix.searcher()
        return searcher

    def search(self, text: str, limit: int = 10, highlights: bool = True) -> list[dict]:
        query = self.parser.parse(text)
        results = self._searcher().search(query, limit=limit)
        return [{
            "source": hit["path"],
            "text": hit["content"],
            "highlight": hit.highlights("content") if highlights else "",
            "score": hit.score,
        } for hit in results]


def serve(index_dir: Path, host: str, port: int, threads: int = 8) -> None:
    """``GET /api/search?q=…&limit=10`` as JSON, served by waitress like ``zhsearch serve``."""
    from waitress import serve as waitress_serve

    engine = BaselineSearch(index_dir)

    def app(environ, start_response):
        if environ.get("PATH_INFO") != "/api/search":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        args = parse_qs(environ.get("QUERY_STRING", ""))
        query = args.get("q", [""])[0]
        limit = int(args.get("limit", ["10"])[0])
        started = time.perf_counter()
        hits = engine.search(query, limit=limit) if query.strip() else []
        body = json.dumps({"query": query, "hits": hits,
                           "took_ms": round((time.perf_counter() - started) * 1000, 1)},
                          ensure_ascii=False).encode("utf-8")
        start_response("200 OK", [("Content-Type", "application/json; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    waitress_serve(app, host=host, port=port, threads=threads, _quiet=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("index", help="index a corpus folder; prints JSON")
    p.add_argument("corpus", type=Path)
    p.add_argument("index", type=Path)
    p = sub.add_parser("search", help="search once and print the highlighted top 10")
    p.add_argument("index", type=Path)
    p.add_argument("query")
    p = sub.add_parser("serve", help="serve /api/search")
    p.add_argument("index", type=Path)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)

    if args.command == "index":
        started = time.perf_counter()
        count = build_index(iter_passages(args.corpus), args.index)
        print(json.dumps({"seconds": time.perf_counter() - started, "passages": count}))
    elif args.command == "search":
        for hit in BaselineSearch(args.index).search(args.query):
            print(hit["source"], hit["highlight"])
    else:
        serve(args.index, args.host, args.port, args.threads)


if __name__ == "__main__":
    main()
