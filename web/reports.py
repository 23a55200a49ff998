"""The 报告 pages: every report of the corpus, one report's articles, its
original file, deleting it; and the export of a search's every hit."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import quote

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, send_file, url_for)
from flask.typing import ResponseReturnValue

from indexer.archive import REPORT_SORTS, export_bytes, export_format
from indexer.messages import ZH
from indexer.records import ReportSummary
from web.engine import get_engine
from web.params import Pager, lenient_page, parse_filters, required_q
from web.security import token_ok, upload_state

bp = Blueprint("reports", __name__)

PER_PAGE = 50
SORT_LABELS = {sort: ZH.text(f"sort {sort}") for sort in REPORT_SORTS}
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


@bp.app_template_filter("filesize")
def filesize(size: int) -> str:
    """A file size as people read it.

    >>> filesize(440), filesize(9209), filesize(3_500_000)
    ('440 字节', '9.0 KB', '3.3 MB')
    """
    if size < 1024:
        return ZH.text("size bytes", size=size)
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _kept(report: ReportSummary, year: str, unit: str) -> bool:
    if year == "undated" and report.date:
        return False
    if year and year != "undated" and report.year != year:
        return False
    return not unit or unit in report.units


@bp.get("/reports")
def index() -> str:
    """Every report, sorted by ``sort`` and narrowed to a ``year`` or ``unit`` by links."""
    sort = request.args.get("sort", "date")
    sort = sort if sort in REPORT_SORTS else "date"
    year = request.args.get("year", "").strip()
    unit = request.args.get("unit", "").strip()
    listing = get_engine().reports(sort)
    shown = [r for r in listing.reports if _kept(r, year, unit)]
    page = lenient_page(request.args)
    pager = Pager(page, len(shown), PER_PAGE)
    first = (page - 1) * PER_PAGE
    return render_template("reports.html", listing=listing, reports=shown[first:first + PER_PAGE],
                           shown=len(shown), sort=sort, year=year, unit=unit, pager=pager,
                           sort_labels=SORT_LABELS)


@bp.get("/reports/<path:source>")
def report(source: str) -> str:
    """One report: its date, units and size, its articles, download and delete."""
    # An unknown name raises NotInCorpus: a 404 page in errors.py.
    view = get_engine().archive.report(source)
    return render_template("report.html", view=view, report=view.summary)


@bp.get("/file/<path:source>")
def download(source: str) -> ResponseReturnValue:
    """The report's original file from the corpus folder, by its recorded name."""
    path = get_engine().archive.original(source)
    # An attachment, never shown inline: an .html report must not run as a page of this site.
    return send_file(path, as_attachment=True, download_name=PurePosixPath(source).name,
                     max_age=0)


@bp.post("/reports/delete")
def delete() -> ResponseReturnValue:
    """Delete a report: the same CSRF, loopback and token rules as an upload."""
    state = upload_state()
    if state == "closed":
        abort(403, ZH.text("delete_closed"))
    source = request.form.get("source", "")
    if state == "token" and not token_ok(request.form.get("token", "")):
        abort(403, ZH.text("delete_bad_token"))
    passages = get_engine().remove(source)
    flash(ZH.text("report_deleted", source=source, passages=passages))
    return redirect(url_for("reports.index"), 303)


@bp.get("/export")
def export() -> ResponseReturnValue:
    """Every hit of a search with its filters, as CSV (UTF-8 with a BOM) or JSON Lines."""
    q = required_q(request.args)
    # A format the archive does not write is refused before the search runs: a 400 page.
    fmt = export_format(request.args.get("format", "csv"))
    filters = parse_filters(request.args)
    # More than EXPORT_MAX_HITS raises too_many_hits before any hit is read: a 400 page.
    rows = get_engine().archive.export(filters.request(q),
                                       max_hits=current_app.config["EXPORT_MAX_HITS"])
    name = f"zhsearch-{q.strip()[:40]}.{fmt}"
    response = Response(export_bytes(rows, fmt), mimetype=EXPORT_TYPES[fmt].split(";")[0])
    response.headers["Content-Type"] = EXPORT_TYPES[fmt]
    response.headers["Content-Disposition"] = (
        f"attachment; filename=zhsearch.{fmt}; filename*=UTF-8''{quote(name, safe='')}")
    return response
