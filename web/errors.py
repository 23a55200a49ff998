"""Error pages in the site's layout (JSON for the API); never a traceback."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from indexer.errors import ZhsearchError
from indexer.messages import TEXTS, ZH
from indexer.readers import quoted_limits

bp = Blueprint("errors", __name__)

def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(code: int, message: str, headers: dict[str, str] | None = None
                   ) -> ResponseReturnValue:
    if _wants_json():
        return jsonify(error=message, status=code), code, headers or {}
    return render_template("error.html", code=code, title=_by_status(code, "title"),
                           message=message), code, headers or {}


def _by_status(code: int, what: str = "") -> str:
    """The catalogue's text for HTTP status ``code`` (its ``title`` with
    ``what="title"``), or the general one for a status it has none for."""
    key = " ".join(filter(None, ("http", str(code), what)))
    return ZH.text(key if key in TEXTS else " ".join(filter(None, ("http", what))))


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    if code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        if (request.content_length or 0) <= limit:
            # Within the size limit: Werkzeug counted more form parts than allowed.
            from web.security import MAX_UPLOAD_FILES
            return error_response(413, ZH.text("too_many_files", count=MAX_UPLOAD_FILES))
        return error_response(413, ZH.text("upload_too_large", megabytes=limit / (1024 * 1024)))
    # Werkzeug's own descriptions are English; ours (from abort) are Chinese.
    own = error.description and error.description != type(error).description
    message = error.description if own and error.description else _by_status(code)
    return error_response(code, message)


@bp.app_errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> ResponseReturnValue:
    return error_response(400, ZH.text("form_expired"))


@bp.app_errorhandler(ZhsearchError)
def library_error(error: ZhsearchError) -> ResponseReturnValue:
    # The status is the error class's own (indexer/errors.py).
    if error.status >= 500:
        current_app.logger.error("%s: %s", error.code, error)
    return error_response(error.status, ZH.error(error.code, **quoted_limits(), **error.details))


def _index_opens() -> bool:
    """Whether the index opens now, every segment of its newest commit."""
    from web.engine import get_engine

    try:
        get_engine().store.open_index(create=False)
        return True
    except ZhsearchError:
        return False


@bp.app_errorhandler(InternalServerError)
def internal_error(error: InternalServerError) -> ResponseReturnValue:
    # Flask has already logged the exception with its traceback.
    from indexer.arrays_build import SegmentGone
    from indexer.search import reading_failed

    original = getattr(error, "original_exception", None)
    if original is not None and reading_failed(original):
        # Whoosh failed reading the index: damaged, unless the failure is
        # that of a reader which raced a commit merging its segment away (a
        # file deleted, a column Whoosh then finds gone: None) and the index
        # opens now; the next request answers then (issue 19: a saved upload
        # was told to rebuild the index). A damaged file fails otherwise
        # ("Block tag error", struct, EOF) and keeps the hint to rebuild.
        raced = isinstance(original, (SegmentGone, FileNotFoundError)) or (
            isinstance(original, TypeError) and "'NoneType'" in str(original))
        if raced and _index_opens():
            return error_response(503, ZH.text("http 503"), {"Retry-After": "1"})
        return error_response(503, ZH.error("index_corrupt"))
    return error_response(500, ZH.text("http 500"))
