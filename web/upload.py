"""Adding report files to the corpus from the browser, as `zhsearch add` does."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from indexer.readers import supported_suffixes
from indexer.records import FileOutcome
from web.engine import get_engine
from indexer.messages import ZH
from web.security import MAX_UPLOAD_FILES

bp = Blueprint("upload", __name__)

STATUS_LABELS = {"added": "已添加", "updated": "已更新", "unchanged": "未变化", "refused": "已拒绝"}

def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name could resolve anywhere


def upload_state() -> str:
    """``token`` when an upload token is configured (then it is always asked for),
    ``open`` on a loopback-only server, ``closed`` otherwise."""
    if current_app.config.get("UPLOAD_TOKEN"):
        return "token"
    return "open" if is_loopback(current_app.config["HOST"]) else "closed"


def template_globals() -> dict:
    return {"upload_state": upload_state(),
            "max_upload_mb": current_app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)}


def reason_zh(outcome: FileOutcome) -> str:
    """A refused file's reason in Chinese: by its code, else as the store gave it."""
    return ZH.error(outcome.code) if outcome.code else outcome.reason


def _page(status: int = 200, **context) -> ResponseReturnValue:
    return render_template("upload.html", suffixes=supported_suffixes(), **context), status


def _token_ok(given: str) -> bool:
    expected = current_app.config["UPLOAD_TOKEN"]
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@bp.route("/upload", methods=["GET", "POST"])
def upload() -> ResponseReturnValue:
    state = upload_state()
    if state == "closed":
        abort(403, ZH.text("upload_closed"))
    if request.method == "GET":
        return _page()
    if state == "token" and not _token_ok(request.form.get("token", "")):
        return _page(403, error=ZH.text("upload_bad_token"))
    files = [f for f in request.files.getlist("files") if f.filename]
    if not files:
        return _page(400, error=ZH.text("upload_no_files"))
    if len(files) > MAX_UPLOAD_FILES:
        return _page(400, error=ZH.text("too_many_files", count=MAX_UPLOAD_FILES))
    # The store applies the one file-name rule (indexer/corpus.py) and refuses
    # a bad name with its code, as it does for `zhsearch add`.
    items = [(storage.filename or "", storage.read()) for storage in files]
    outcomes = get_engine().add_uploads(items).outcomes
    return _page(outcomes=outcomes, labels=STATUS_LABELS, reason_zh=reason_zh)
