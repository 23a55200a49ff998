"""Adding report files to the corpus from the browser, as `zhsearch add` does."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from indexer.readers import supported_suffixes
from indexer.records import FileOutcome, Status
from web.engine import get_engine
from web.messages import zh
from web.security import MAX_UPLOAD_FILES, token_ok, upload_state

bp = Blueprint("upload", __name__)

# Every status has its label: an upload never shows `removed`, but a label
# missing from this table fell back to the English word.
STATUS_LABELS = {Status.ADDED: "已添加", Status.UPDATED: "已更新", Status.UNCHANGED: "未变化",
                 Status.REMOVED: "已删除", Status.REFUSED: "已拒绝"}


def template_globals() -> dict:
    return {"upload_state": upload_state(),
            "max_upload_mb": current_app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)}


def reason_zh(outcome: FileOutcome) -> str:
    """A refused file's reason in Chinese: by its code, else as the store gave it."""
    return zh(outcome.code) if outcome.code else outcome.reason


def _page(status: int = 200, **context) -> ResponseReturnValue:
    return render_template("upload.html", suffixes=supported_suffixes(), **context), status


@bp.route("/upload", methods=["GET", "POST"])
def upload() -> ResponseReturnValue:
    state = upload_state()
    if state == "closed":
        abort(403, "上传已关闭：服务器对外开放时，需要先在配置中设置上传口令"
                   "（环境变量 ZHSEARCH_UPLOAD_TOKEN）。")
    if request.method == "GET":
        return _page()
    if state == "token" and not token_ok(request.form.get("token", "")):
        return _page(403, error="上传口令不正确。")
    files = [f for f in request.files.getlist("files") if f.filename]
    if not files:
        return _page(400, error="请先选择要上传的文件。")
    if len(files) > MAX_UPLOAD_FILES:
        return _page(400, error=f"一次最多上传 {MAX_UPLOAD_FILES} 个文件，请分几次上传。")
    # The store applies the one file-name rule (indexer/names.py) and refuses
    # a bad name with its code, as it does for `zhsearch add`.
    items = [(storage.filename or "", storage.read()) for storage in files]
    outcomes = get_engine().add_uploads(items).outcomes
    return _page(outcomes=outcomes, labels=STATUS_LABELS, reason_zh=reason_zh)
