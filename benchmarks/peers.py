"""The peers of issue 11: other engines over the same passages and queries, and the recall reference.

- ``fts5``: SQLite FTS5 (the standard library's ``sqlite3``) over jieba words
  joined by spaces, the approach of the ``simple`` tokenizer: a contentless
  FTS5 table of the words (``unicode61`` tokenizer) beside a plain table of
  the passages, BM25 ranking (``ORDER BY rank``).
- ``tantivy``: Tantivy (the ``tantivy`` package, a ``bench`` extra) over
  pre-tokenised jieba words (``add_pre_tokenized_text``), BM25.
- ``scan``: a plain Python loop, ``all(t in p for t in terms)`` over every
  passage. It does not rank, but its recall of exact strings is perfect: the
  reference every engine's misses are counted against.

Words are ``jieba.cut(…, HMM=False)`` (what zhsearch uses) of stock jieba:
each runs in a process of its own (``workers.py``), without zhsearch's user
dictionary. A query is its space-separated parts, all required; a part cut
into several words is a phrase of them. Segmentation (of the passages and of
the queries) is inside the clock. Highlighting of the top 10 is a regular
expression over the query's words (``common.marker``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import jieba

from common import iter_passages, marker, passage_key, scan_matches, scan_terms

jieba.setLogLevel(logging.WARNING)

Result = tuple[int, int]  # (hits shown, exact total)


def words(text: str) -> list[str]:
    """jieba's words of ``text`` without the blanks between them."""
    return [w for w in jieba.cut(text, HMM=False) if w.strip()]


def query_parts(query: str) -> list[list[str]]:
    """Each space-separated part of a query as its words (punctuation dropped)."""
    parts = []
    for part in scan_terms(query):
        kept = [w for w in words(part) if any(c.isalnum() for c in w)]
        if kept:
            parts.append(kept)
    return parts


def fts5_available() -> bool:
    try:
        sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    return True


# -- SQLite FTS5 -------------------------------------------------------------------


def fts5_index(passages: Iterable[tuple[str, str]], index_dir: Path) -> int:
    """One transaction of every passage, then FTS5's ``optimize`` (one b-tree, as after a merge)."""
    if not fts5_available():
        raise RuntimeError(f"this sqlite3 ({sqlite3.sqlite_version}) has no FTS5")
    index_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(index_dir / "fts5.db")
    db.executescript("""
        CREATE TABLE passage(id INTEGER PRIMARY KEY, source TEXT NOT NULL, text TEXT NOT NULL);
        CREATE VIRTUAL TABLE fts USING fts5(words, content='', tokenize='unicode61');
    """)
    count = 0
    with db:
        for source, text in passages:
            count += 1
            db.execute("INSERT INTO passage(id, source, text) VALUES (?, ?, ?)", (count, source, text))
            db.execute("INSERT INTO fts(rowid, words) VALUES (?, ?)", (count, " ".join(words(text))))
    with db:
        db.execute("INSERT INTO fts(fts) VALUES ('optimize')")
    db.close()
    return count


class Fts5Search:
    def __init__(self, index_dir: Path):
        self.db = sqlite3.connect(index_dir / "fts5.db", check_same_thread=False)

    @staticmethod
    def match(query: str) -> tuple[str, list[str]] | None:
        """The FTS5 MATCH expression (every part a quoted phrase, ANDed) and the words to mark."""
        parts = query_parts(query)
        if not parts:
            return None
        phrases = ['"' + " ".join(part).replace('"', '""') + '"' for part in parts]
        return " AND ".join(phrases), [w for part in parts for w in part]

    def search(self, query: str, limit: int = 10) -> Result:
        match = self.match(query)
        if match is None:
            return 0, 0
        expression, marked = match
        total = self.db.execute("SELECT count(*) FROM fts WHERE fts MATCH ?",
                                (expression,)).fetchone()[0]
        rows = self.db.execute(
            "SELECT p.source, p.text FROM (SELECT rowid, rank FROM fts WHERE fts MATCH ? "
            "ORDER BY rank LIMIT ?) AS m JOIN passage AS p ON p.id = m.rowid ORDER BY m.rank",
            (expression, limit)).fetchall()
        mark = marker(marked)
        shown = [(source, mark(text)) for source, text in rows]
        return len(shown), total

    def keys(self, query: str) -> list[str]:
        match = self.match(query)
        if match is None:
            return []
        rows = self.db.execute(
            "SELECT p.source, p.text FROM fts JOIN passage AS p ON p.id = fts.rowid "
            "WHERE fts MATCH ?", (match[0],))
        return [passage_key(source, text) for source, text in rows]


# -- Tantivy -------------------------------------------------------------------------


def tantivy_schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("source", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("content", stored=True, tokenizer_name="whitespace")
    return builder.build()


def tantivy_index(passages: Iterable[tuple[str, str]], index_dir: Path) -> int:
    """Every passage with its jieba tokens and their offsets, one commit, merges awaited."""
    import tantivy

    index_dir.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(tantivy_schema(), path=str(index_dir), reuse=False)
    writer = index.writer()
    count = 0
    for source, text in passages:
        tokens = []
        position = 0
        for word, start, end in jieba.tokenize(text, HMM=False):
            if word.strip():
                tokens.append(tantivy.Token(word, position, start, end))
                position += 1
        doc = tantivy.Document()
        doc.add_text("source", source)
        doc.add_pre_tokenized_text("content", tantivy.PreTokenizedString(text, tokens))
        writer.add_document(doc)
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    return count


class TantivySearch:
    def __init__(self, index_dir: Path):
        import tantivy

        self.tantivy = tantivy
        self.index = tantivy.Index.open(str(index_dir))
        self.index.reload()
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    def query(self, text: str):
        """Every part a term (one word) or a phrase (several), all required."""
        tantivy = self.tantivy
        parts = query_parts(text)
        if not parts:
            return None, []
        subqueries = []
        for part in parts:
            if len(part) == 1:
                q = tantivy.Query.term_query(self.schema, "content", part[0])
            else:
                q = tantivy.Query.phrase_query(self.schema, "content", part)
            subqueries.append((tantivy.Occur.Must, q))
        query = subqueries[0][1] if len(subqueries) == 1 else tantivy.Query.boolean_query(subqueries)
        return query, [w for part in parts for w in part]

    def search(self, text: str, limit: int = 10) -> Result:
        query, marked = self.query(text)
        if query is None:
            return 0, 0
        result = self.searcher.search(query, limit=limit, count=True)
        mark = marker(marked)
        shown = []
        for _score, address in result.hits:
            doc = self.searcher.doc(address)
            shown.append((doc["source"][0], mark(doc["content"][0])))
        return len(shown), result.count

    def keys(self, text: str) -> list[str]:
        query, _ = self.query(text)
        if query is None:
            return []
        total = self.searcher.search(query, limit=1, count=True).count
        if not total:
            return []
        hits = self.searcher.search(query, limit=total, count=False).hits
        keys = []
        for _score, address in hits:
            doc = self.searcher.doc(address)
            keys.append(passage_key(doc["source"][0], doc["content"][0]))
        return keys


# -- the exact-substring scan ---------------------------------------------------------------


class ScanSearch:
    """Every passage in a list; a query is a loop over all of them."""

    def __init__(self, corpus: Path):
        loaded = list(iter_passages(corpus))
        self.texts = [text for _, text in loaded]
        self.sources = [source for source, _ in loaded]

    def search(self, query: str, limit: int = 10) -> Result:
        found = list(scan_matches(query, self.texts))
        mark = marker(scan_terms(query))
        shown = [(self.sources[i], mark(self.texts[i])) for i in found[:limit]]
        return len(shown), len(found)

    def keys(self, query: str) -> list[str]:
        return [passage_key(self.sources[i], self.texts[i]) for i in scan_matches(query, self.texts)]
