"""The archive: the reports of a corpus, one report's articles, an article's
passages, a report's original file, and every hit of a query as rows to export.

What ``zhsearch reports``, ``show`` and ``export`` print and the web's 报告
pages show; the front doors only render these records.

>>> unit_of("肇庆市广宁县总工会：担当作为立新功 谱写时代新篇章")
'肇庆市广宁县总工会'
>>> unit_of("全国总工会表彰劳动模范") is None
True
>>> unit_of("习近平：坚定不移走中国特色社会主义道路") is None  # a person, not a unit
True
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path

from whoosh.searching import Searcher

from indexer import names
from indexer.document import TITLE
from indexer.errors import NotInCorpus, QueryError
from indexer.readers import is_supported
from indexer.records import (EXPORT_FIELDS, FILE, ArticleSummary, ArticleView, ExportRow,
                             FileRecord, ReportList, ReportSummary, ReportView)
from indexer.request import Fold, Group, SearchRequest
from indexer.search import SearchService
from indexer.store import Store

REPORT_SORTS = ("date", "name", "passages")
EXPORT_FORMATS = ("csv", "jsonl")

# A title that opens with a unit's name and a colon ("XX县总工会：…"), as the
# bundled report's articles do. The name must end the way the name of an
# office, union, company or place does, so "习近平：…" (a quote) is no unit.
_UNIT = re.compile(r"\s*([^：:，,。！？、；;“”\"'《》()（）【】\[\]\s]{2,30}?)\s*[：:]\s*\S")
# Not a bare 会: 发布会, 冬奥会 and 两会 are events, not units.
_UNIT_ENDINGS = (
    "工会", "委员会", "协会", "学会", "商会", "联合会", "基金会", "总会", "理事会", "研究会",
    "促进会", "委", "局", "部", "厅", "院", "办", "处", "站", "所", "中心", "公司", "集团",
    "政府", "区", "县", "市", "省", "镇", "乡", "街道", "社区", "村", "党委", "支部", "学校",
    "大学", "学院", "医院", "银行", "团", "队", "社", "室", "组", "馆", "厂", "科", "司", "署",
    "校", "园", "行", "妇联", "联社", "军",
)

# Spreadsheets run a cell that starts with one of these as a formula: such a
# cell is written with a leading apostrophe, which they show as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def unit_of(title: str) -> str | None:
    """The unit an article title names before its colon, or None."""
    match = _UNIT.match(title or "")
    if not match:
        return None
    name = match.group(1)
    return name if name.endswith(_UNIT_ENDINGS) else None


def _units(titles: Iterable[str]) -> list[str]:
    """The units these titles name, each once, in order."""
    units: list[str] = []
    for title in titles:
        unit = unit_of(title)
        if unit and unit not in units:
            units.append(unit)
    return units


def _article_number(article_id: str) -> int:
    """``6ebb69ef47d6-12`` -> 12: articles are numbered in the order of the file."""
    try:
        return int(article_id.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


class Archive:
    """The reports a search service's index holds, and what can be done with them."""

    def __init__(self, service: SearchService):
        self.service = service

    @property
    def store(self) -> Store:
        return self.service.store

    # -- listing -----------------------------------------------------------------

    def reports(self, sort: str = "date") -> ReportList:
        """Every indexed report, sorted by ``date`` (newest first, undated last),
        ``name`` (by pinyin) or ``passages`` (most first)."""
        if sort not in REPORT_SORTS:
            raise QueryError(f"sort must be one of {', '.join(REPORT_SORTS)}", code="bad_sort")
        return self.service.reading(lambda searcher: self._reports(searcher, sort))

    @staticmethod
    def _reports(searcher: Searcher, sort: str) -> ReportList:
        # The article titles, from the title passages only: 5,872 of them on
        # the 2022 news (365 files) read in 0.19 s, where looking up each
        # article's first passage took 0.73 s.
        titles: dict[str, dict[int, str]] = {}
        for docnum in searcher.document_numbers(kind=TITLE):
            doc = searcher.stored_fields(docnum)
            by_number = titles.setdefault(doc["source"], {})
            by_number.setdefault(_article_number(doc.get("article") or ""), doc.get("title", ""))
        reports = [
            ReportSummary(r.source, r.date,
                          _units(title for _, title in sorted(titles.get(r.source, {}).items())),
                          r.articles, r.passages, r.size)
            for r in Store.file_records(searcher).values()]
        return ReportList.of(sort_reports(reports, sort))

    def report(self, source: str) -> ReportView:
        """One report and its articles in order; :class:`NotInCorpus` when none is indexed."""
        return self.service.reading(lambda searcher: self._report(searcher, source))

    @staticmethod
    def _report(searcher: Searcher, source: str) -> ReportView:
        docnum = searcher.document_number(kind=FILE, source=source)
        if docnum is None:
            raise NotInCorpus(source)
        record = FileRecord.from_stored(searcher.stored_fields(docnum))
        articles: dict[str, list[dict]] = {}
        for number in searcher.document_numbers(source=source):
            doc = searcher.stored_fields(number)
            if doc.get("kind") != FILE and doc.get("article"):
                articles.setdefault(doc["article"], []).append(doc)
        listed = []
        for article_id in sorted(articles, key=_article_number):
            docs = articles[article_id]
            pages = sorted({d["page"] for d in docs if d.get("page") is not None})
            listed.append(ArticleSummary(article_id, docs[0].get("title", ""), len(docs), pages))
        summary = ReportSummary(record.source, record.date, _units(a.title for a in listed),
                                record.articles,
                                record.passages, record.size)
        return ReportView(summary, listed)

    def article(self, article_id: str, query: str = "") -> ArticleView:
        """An article's passages in order; :class:`UnknownArticle` when none has this id."""
        return self.service.article(article_id, query)

    # -- the original file -------------------------------------------------------

    def original(self, source: str) -> Path:
        """The corpus file of an indexed report, never a path out of the corpus.

        Raises :class:`NotInCorpus` for a name the index does not record, a
        name that leads out of the folder or to a hidden file, and a file
        that is gone.
        """
        path = self.store.corpus.path_of(source)
        if path is None or names.is_hidden(source) or not self.service.reading(
                lambda searcher: searcher.document_number(kind=FILE, source=source) is not None) \
                or not path.is_file() or not is_supported(path):
            raise NotInCorpus(source)
        # Absolute: a web server resolves a relative path against its own folder.
        return path.absolute()

    def remove(self, source: str) -> int:
        """Remove a report (:meth:`Store.remove`); searches see it gone at once."""
        passages = self.store.remove(source)
        self.service.refresh()
        return passages

    # -- export ------------------------------------------------------------------

    def export(self, query: SearchRequest | str, *, source: str | None = None,
               date_from: str | None = None, date_to: str | None = None, sort: str = "relevance",
               scope: str = "all", max_hits: int | None = None) -> list[ExportRow]:
        """Every hit of ``query`` (a :class:`SearchRequest`, or a text with the
        same filters as ``search``), in its order, never grouped nor folded.

        With ``max_hits``, a query with more hits raises :class:`QueryError`
        (``too_many_hits``) before any hit is read.
        """
        request = query if isinstance(query, SearchRequest) else SearchRequest.of(
            query, source=source, date_from=date_from, date_to=date_to, sort=sort, scope=scope)
        request = request.replace(page=1, group=Group.PASSAGE, fold=Fold.NONE)
        if max_hits is not None:
            _within(self.service.search(request.replace(limit=1)).total, max_hits)
        result = self.service.search(request.replace(limit=0))
        if max_hits is not None:
            # A commit between the count and the read may have added hits.
            _within(result.total, max_hits)
        return [ExportRow.of(hit) for hit in result.hits]


def _within(total: int, max_hits: int) -> None:
    if total > max_hits:
        raise QueryError(f"{total:,} hits; an export holds at most {max_hits:,}",
                         code="too_many_hits", total=f"{total:,}", limit=f"{max_hits:,}")


def sort_reports(reports: list[ReportSummary], sort: str) -> list[ReportSummary]:
    """Reports in the order the list shows them (see :meth:`Archive.reports`)."""
    by_name = sorted(reports, key=lambda r: _name_key(r.source))
    if sort == "date":
        dated = sorted((r for r in by_name if r.date), key=lambda r: r.date or "", reverse=True)
        return dated + [r for r in by_name if not r.date]
    if sort == "passages":
        return sorted(by_name, key=lambda r: -r.passages)
    return by_name


def _name_key(name: str) -> tuple[str, str]:
    # Imported here: pypinyin's dictionaries take a quarter of a second to load.
    from pypinyin import lazy_pinyin

    return ("".join(lazy_pinyin(name)).lower(), name)


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def csv_bytes(rows: Iterable[ExportRow]) -> bytes:
    """Rows as CSV in UTF-8 with a BOM, so that a spreadsheet opens the Chinese.

    >>> csv_bytes([ExportRow("a.txt", "标题", "", None, 3, None, "=1+1")])[:3] == b"\\xef\\xbb\\xbf"
    True
    >>> csv_bytes([ExportRow("a.txt", "标题", "", None, 3, None, "=1+1")]).decode("utf-8-sig")
    "source,title,section,date,paragraph,page,text\\r\\na.txt,标题,,,3,,'=1+1\\r\\n"
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_FIELDS)
    for row in rows:
        writer.writerow([_cell(getattr(row, name)) for name in EXPORT_FIELDS])
    return out.getvalue().encode("utf-8-sig")


def jsonl_bytes(rows: Iterable[ExportRow]) -> bytes:
    """Rows as JSON Lines: one object a line, the keys of :data:`EXPORT_FIELDS`.

    >>> jsonl_bytes([ExportRow("a.txt", "标题", "", None, 3, None, "正文")]).decode()
    '{"source": "a.txt", "title": "标题", "section": "", "date": null, "paragraph": 3, "page": null, "text": "正文"}\\n'
    """
    return "".join(json.dumps(row.to_json(), ensure_ascii=False) + "\n"
                   for row in rows).encode("utf-8")


def export_format(fmt: str) -> str:
    """``fmt`` when it is a format :func:`export_bytes` writes; ``bad_format`` otherwise.

    >>> export_format("xlsx")
    Traceback (most recent call last):
    indexer.errors.QueryError: format must be one of csv, jsonl
    """
    if fmt not in EXPORT_FORMATS:
        raise QueryError(f"format must be one of {', '.join(EXPORT_FORMATS)}", code="bad_format")
    return fmt


def export_bytes(rows: Iterable[ExportRow], fmt: str) -> bytes:
    return csv_bytes(rows) if export_format(fmt) == "csv" else jsonl_bytes(rows)
