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
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
    return error_response(error.status, ZH.error(error.code, **quoted_limits(), **error.details),
                          headers)


@bp.app_errorhandler(InternalServerError)
def internal_error(error: InternalServerError) -> ResponseReturnValue:
    # Flask has already logged the exception with its traceback. A failure
    # reading the index is the library's to name (SearchService.reading):
    # it arrives here as a ZhsearchError, never as Whoosh's own exception.
    return error_response(500, ZH.text("http 500"))
