"""Adding report files to the corpus from the browser, as `zhsearch add` does."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from indexer.readers import quoted_limits, supported_suffixes
from indexer.records import FileOutcome, Status
from web.engine import get_engine
from indexer.messages import ZH
from web.security import MAX_UPLOAD_FILES, token_ok, upload_state

bp = Blueprint("upload", __name__)

# Every status has its label, the catalogue's (the Chinese CLI prints the
# same words): an upload never shows `removed`, but a label missing from this
# table fell back to the English word.
STATUS_LABELS = {status: ZH.text(f"status {status}") for status in Status}


def template_globals() -> dict:
    return {"upload_state": upload_state(),
            "max_upload_mb": current_app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)}


def reason_zh(outcome: FileOutcome) -> str:
    """A refused file's reason in Chinese: by its code, else as the store gave it."""
    return ZH.reason(outcome.code, outcome.reason, **quoted_limits())


def _page(status: int = 200, **context) -> ResponseReturnValue:
    return render_template("upload.html", suffixes=supported_suffixes(), **context), status


@bp.route("/upload", methods=["GET", "POST"])
def upload() -> ResponseReturnValue:
    state = upload_state()
    if state == "closed":
        abort(403, ZH.text("upload_closed"))
    if request.method == "GET":
        return _page()
    if state == "token" and not token_ok(request.form.get("token", "")):
        return _page(403, error=ZH.text("upload_bad_token"))
    files = [f for f in request.files.getlist("files") if f.filename]
    if not files:
        return _page(400, error=ZH.text("upload_no_files"))
    if len(files) > MAX_UPLOAD_FILES:
        return _page(400, error=ZH.text("too_many_files", count=MAX_UPLOAD_FILES))
    # The store applies the one file-name rule (indexer/names.py) and refuses
    # a bad name with its code, as it does for `zhsearch add`.
    items = [(storage.filename or "", storage.read()) for storage in files]
    outcomes = get_engine().add_uploads(items).outcomes
    return _page(outcomes=outcomes, labels=STATUS_LABELS, reason_zh=reason_zh)
