"""Every message zhsearch shows a person, in English and Chinese, by a stable key.

One catalogue, two tables on one kind of key:

- :data:`ERRORS`: every error code the library raises or reports
  (:class:`indexer.errors.ZhsearchError` and ``FileOutcome.code``), with
  what it means in English and the Chinese a person reads.
- :data:`TEXTS`: what a front door says besides an error (the web's
  refusals of a request, the command line's progress and file lines).

A code→(English, Chinese) table rather than gettext's ``.po``/``.mo``: the
web speaks Chinese whatever the server's locale while the command line
follows the user's, so both languages must be at hand in one process; the
keys are the stable codes scripts already rely on, not the English wording;
a test can check that every key has both texts; and there is no compiled
catalogue to build or ship. Which language the command line speaks is
chosen once at start from the environment, in gettext's order
(:func:`language`). A text may quote details (``{value}``), filled by
:meth:`Catalogue.text`.

>>> Catalogue("zh").error("bad_date", value="2023-13-01")
'日期“2023-13-01”无效，请写成 年-月-日，例如 2023-05-15。'
>>> Catalogue("en").text("refused", name="x.txt", reason="looks like a binary file, not text")
'refused x.txt: looks like a binary file, not text'
>>> Catalogue("zh").text("refused", name="x.txt", reason="看起来是二进制文件，不是文本")
'已拒绝 x.txt：看起来是二进制文件，不是文本'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

# The languages zhsearch speaks; English is the default.
LANGUAGES = ("en", "zh")


class Text(NamedTuple):
    """One message in both languages."""

    en: str
    zh: str


def wan(number: int) -> str:
    """A limit in units of 10,000 (万), as the Chinese texts count.

    >>> wan(2_000_000)
    '200'
    """
    return f"{number // 10_000:,}"


# Every code the library can raise or report: what it means in English (the
# English a person reads is the error's own message, which names the file or
# the value), and the Chinese a person reads. A test checks both are here.
ERRORS: dict[str, Text] = {
    # A report file that is refused (UnsupportedFile, FileOutcome.code).
    "unsupported_format": Text("the file's suffix is not one zhsearch reads",
                               "不支持的文件格式，可以上传：{suffixes}"),
    "empty_file": Text("the file is empty", "文件是空的"),
    "no_text": Text("nothing searchable in the file", "文件里没有可以搜索的文字"),
    "binary_file": Text("the file looks binary, not text", "看起来是二进制文件，不是文本"),
    "unknown_encoding": Text("the text encoding cannot be told",
                             "无法识别文字编码，请另存为 UTF-8、GB18030 或 Big5"),
    "damaged_file": Text("the file is damaged or its library could not read it",
                         "文件已损坏或无法读取"),
    "old_word": Text("an old binary Word .doc file",
                     "这是旧版 Word（.doc）文件，请在 Word 中另存为 .docx 后再上传"),
    "damaged_docx": Text("a .docx that is not a complete zip or has broken XML",
                         "Word 文件已损坏（不是完整的 .docx）"),
    "not_word": Text("a zip or Office file that is not a Word document",
                     "不是 Word 文档（可能是其他 Office 文件）"),
    "not_pdf": Text("a .pdf file without a PDF header", "不是 PDF 文件（缺少 PDF 文件头）"),
    "pdf_password": Text("a password-protected PDF", "PDF 设有密码，请另存一份不加密的副本"),
    "pdf_encrypted": Text("a PDF encrypted in a way that cannot be opened", "PDF 的加密方式无法打开"),
    "pdf_no_unicode": Text("a PDF whose fonts have no Unicode map",
                           "PDF 的字体没有文字编码表，无法读出文字"),
    "pdf_scanned": Text("a scanned PDF with no text layer",
                        "这是扫描版 PDF，没有文字层；zhsearch 不做文字识别（OCR）"),
    "bad_name": Text("the file has no name", "文件没有名字"),
    "name_hidden": Text("the file name starts with a dot", "文件名不能以点（.）开头"),
    "name_control": Text("the file name holds control characters", "文件名含有控制字符"),
    "name_encoding": Text("the file name is not UTF-8", "文件名不是 UTF-8 编码，请改名后再添加"),
    "cannot_read": Text("the file cannot be read from the corpus folder",
                        "无法读取语料库文件夹里的这个文件"),
    "name_too_long": Text("the file name is longer than 255 bytes", "文件名太长（最多 255 字节）"),
    "no_such_file": Text("the file to add does not exist", "文件不存在"),
    "too_large": Text("the file is larger than the size limit", "文件太大，请拆分成较小的报告"),
    "cannot_write": Text("the file cannot be written into the corpus folder", "无法写入语料库文件夹"),
    "same_name_in_batch": Text("a later file of the same batch has the same name",
                               "同一批上传中后面还有同名文件"),
    "symlink": Text("a symbolic link, which add does not follow", "这是符号链接，请直接添加它指向的文件"),
    # A report refused by a reader limit (indexer/readers/limits.py).
    "too_much_text": Text("more text than any report has",
                          "文字太多（超过 {max_text_chars} 万字），请拆分成较小的报告"),
    "line_too_long": Text("a text line longer than any report's",
                          "有一行超过 {max_line_chars} 万字，不像文本报告"),
    "too_many_lines": Text("a text with more lines than any report has",
                           "行数太多（超过 {max_lines} 万行），请拆分成较小的报告"),
    "too_many_paragraphs": Text("more paragraphs than any report has",
                                "段落太多（超过 {max_paragraphs} 万段），请拆分成较小的报告"),
    "too_many_elements": Text("an HTML page with more elements than any article page",
                              "网页元素太多（超过 {max_html_elements} 万个），不像一篇网页文章"),
    "inflates_too_much": Text("a .docx whose zip parts inflate past the limit",
                              "Word 文件解压后超过 {max_decompressed}，"
                              "不像一份报告"),
    "too_many_parts": Text("a .docx zip with more parts than any document",
                           "Word 文件包含的部件太多，不像一份报告"),
    "too_many_runs": Text("a .docx with more runs (pieces of formatted text) than any report",
                          "Word 文件的文字片段太多（超过 {max_docx_pieces} 万个），不像一份报告"),
    "too_many_pages": Text("a PDF with more pages than the limit",
                           "页数太多（超过 {max_pages} 页），请拆分成较小的报告"),
    "page_too_large": Text("a PDF page with more drawing, text operators or characters than any page",
                           "PDF 有一页的绘制指令或文字多得不像报告"),
    "read_timeout": Text("reading the file took longer than the time limit",
                         "读取这个文件用时太长，已停止读取"),
    "read_memory": Text("reading the file needed more memory than the limit",
                        "读取这个文件需要的内存太多，已停止读取"),
    "reader_unavailable": Text("the process that reads report files did not start within its "
                               "memory limit (ZHSEARCH_READ_MEMORY_MB)",
                               "读取文件的进程在内存上限（ZHSEARCH_READ_MEMORY_MB）内无法启动，文件没有读取"),
    "bad_setting": Text("an environment variable holds a value zhsearch cannot use",
                        "环境变量 {variable} 的值“{value}”无法使用。"),
    "read_budget": Text("the files of one add or upload used up the time they may take to read",
                        "这一批文件的读取时间已用完，这个文件没有读取；请单独再上传一次"),
    # The index.
    "index_locked": Text("another process is writing the index",
                         "索引正在被另一个 zhsearch 程序写入，请稍后再试。"),
    "index_changed": Text("the index changed twice while it was read (other processes' commits)",
                          "索引刚刚更新，服务暂时不可用，请稍后再试。"),
    "index_corrupt": Text("the index cannot be opened",
                          "索引无法打开。请管理员运行 `zhsearch index --rebuild` 重建索引。"),
    "no_index": Text("there is no index yet", "还没有索引。请管理员运行 `zhsearch index` 建立索引。"),
    "bad_dictionary": Text("the corpus's userdict.dic cannot be read (too large, too many lines, "
                           "a word too long, a frequency too large, not UTF-8)",
                           "语料库的用户词典 userdict.dic 无法使用（文件太大、行数太多、有过长的词或过大的频率，"
                           "或不是 UTF-8 文本）。请管理员修正它。"),
    "bad_synonyms": Text("the corpus's synonyms.dic cannot be used (too large, too many lines, "
                         "a group or a word's synonyms past the bound, not UTF-8)",
                         "语料库的同义词表 synonyms.dic 无法使用（文件太大、行数太多、一组同义词太多，"
                         "或不是 UTF-8 文本）。请管理员修正它。"),
    "index_read_only": Text("the index folder cannot be written (read-only, no permission)",
                            "索引文件夹无法写入（只读或没有权限），暂时不能添加报告；搜索不受影响。"),
    "disk_full": Text("the disk of the index folder is full",
                      "磁盘已满，暂时不能添加报告；搜索不受影响。请管理员清理磁盘空间。"),
    # The corpus.
    "no_corpus": Text("the corpus folder does not exist, is not a folder or cannot be read",
                      "语料库文件夹不存在或无法读取，暂时不能添加报告；搜索不受影响。"
                      "请管理员检查语料库文件夹（是否已挂载）。"),
    "too_many_removals": Text("a sync would remove most of the indexed reports (unconfirmed)",
                              "语料库文件夹里缺少大部分已收录的报告，为防误删，索引没有更新。"
                              "请管理员检查语料库文件夹。"),
    "not_in_corpus": Text("no such report in the corpus", "语料库中没有这个报告：{value}"),
    "unknown_article": Text("no article with this id is indexed",
                            "没有这篇文章：它所在的文件可能已被删除或改名。"),
    "unknown_passage": Text("no passage with this id is indexed",
                            "没有这个段落：它所在的文件可能已被删除或改名。"),
    "no_such_version": Text("no such kept version of a report", "没有保存这个报告的这个旧版本：{value}"),
    # A search request.
    "empty_query": Text("the query is empty", "请输入要搜索的词。"),
    "bad_page": Text("the page number is not 1 or more", "页码应为 1 或更大的整数。"),
    "bad_limit": Text("the limit is negative", "每页条数不能为负数。"),
    "bad_sort": Text("the sort order is unknown", "排序方式只能是 relevance（按相关度）或 date（按日期）。"),
    "bad_group": Text("the grouping is unknown (only article)", "分组方式只能是 article（按文章）。"),
    "bad_fold": Text("the folding is unknown (only same)",
                     "合并方式只能是 same（合并相同报道）或 none（不合并）。"),
    "bad_scope": Text("the scope is unknown (all or title)", "搜索范围只能是 all（全文）或 title（标题）。"),
    "bad_date": Text("a date is not a valid YYYY-MM-DD date",
                     "日期“{value}”无效，请写成 年-月-日，例如 2023-05-15。"),
    "bad_date_range": Text("the start date is after the end date", "开始日期晚于结束日期，请检查日期范围。"),
    "unknown_source": Text("the source filter names no indexed report", "语料库中没有名为“{value}”的报告。"),
    "too_many_hits": Text("more hits than one export may hold",
                          "这次搜索共有 {total} 条结果，超过一次导出的上限 {limit} 条。"
                          "请加上文件或日期筛选，缩小范围后再导出。"),
    "bad_format": Text("the export format is unknown", "导出格式只能是 csv 或 jsonl。"),
}

# What the user of the command line can do about an error, by its code: the
# hint of ZhsearchError (English), and its Chinese, added to the code's
# Chinese text on the command line (the web page says what its reader can do
# in the text itself). Codes without an entry have no hint; an empty Chinese
# hint means the code's Chinese text already says what to do.
HINTS: dict[str, Text] = {
    "bad_setting": Text("set the variable to a valid value, or unset it for the default",
                        "请把这个环境变量改成有效的值，或者删除它以使用默认值"),
    "index_locked": Text("wait for the other zhsearch command to finish, then try again",
                         ""),
    "index_changed": Text("try again", ""),
    "index_corrupt": Text("run `zhsearch index --rebuild` to rebuild it from the corpus",
                          ""),
    "no_index": Text("run `zhsearch index` to build it",
                     ""),
    "disk_full": Text("free some disk space, then try again",
                      ""),
    "index_read_only": Text("make the index folder writable, or point --index elsewhere",
                            "让索引文件夹可写，或用 --index 指定别的文件夹"),
    "no_corpus": Text("check --corpus (env ZHSEARCH_CORPUS) or mount the folder",
                      "检查 --corpus（环境变量 ZHSEARCH_CORPUS），或挂载该文件夹"),
    "too_many_removals": Text("if they were deleted on purpose, run `zhsearch index --allow-removals`; "
                              "otherwise check --corpus",
                              "如果是有意删除的，运行 `zhsearch index --allow-removals`；否则检查 --corpus"),
    "not_in_corpus": Text("`zhsearch stats --files` lists the files", "`zhsearch stats --files` 列出所有文件"),
    "no_such_version": Text("`zhsearch versions NAME` lists them", "`zhsearch versions 名字` 列出保存的版本"),
    "unknown_article": Text("`zhsearch search --json` gives each hit's article id",
                            "`zhsearch search --json` 给出每条结果的文章 id（article）"),
    "unknown_passage": Text("the ids are in `zhsearch search QUERY --json`",
                            "段落 id 见 `zhsearch search 查询 --json`"),
    "unknown_source": Text("`zhsearch stats --files` lists the reports", "`zhsearch stats --files` 列出所有报告"),
    "too_many_hits": Text("narrow the search with filters", "用筛选条件缩小搜索范围"),
    # The Chinese errors of these two already say what to do (请管理员修正它).
    "bad_dictionary": Text("fix userdict.dic in the corpus folder, or remove it", ""),
    "bad_synonyms": Text("fix synonyms.dic in the corpus folder, or remove it", ""),
}

# What a front door says besides a library error. The web page speaks
# Chinese; the command line either language.
TEXTS: dict[str, Text] = {
    # The web's refusals of a request.
    "missing_q": Text("the parameter q (the query) is empty.", "参数 q（查询词）不能为空。"),
    "not_an_integer": Text("the parameter {name} must be an integer.", "参数 {name} 应为整数。"),
    "below_minimum": Text("the parameter {name} must be at least {minimum}.",
                          "参数 {name} 不能小于 {minimum}。"),
    "upload_closed": Text("uploading is off: a server open beyond loopback needs an upload token "
                          "(env ZHSEARCH_UPLOAD_TOKEN).",
                          "上传已关闭：服务器对外开放时，需要先在配置中设置上传口令"
                          "（环境变量 ZHSEARCH_UPLOAD_TOKEN）。"),
    "delete_closed": Text("deleting is off: a server open beyond loopback needs an upload token "
                          "(env ZHSEARCH_UPLOAD_TOKEN).",
                          "删除已关闭：服务器对外开放时，需要先在配置中设置上传口令"
                          "（环境变量 ZHSEARCH_UPLOAD_TOKEN）。"),
    "upload_bad_token": Text("the upload token is wrong.", "上传口令不正确。"),
    "delete_bad_token": Text("the token is wrong; the report was not deleted.",
                             "口令不正确，报告没有删除。"),
    "upload_no_files": Text("choose the files to upload first.", "请先选择要上传的文件。"),
    "too_many_files": Text("at most {count} files an upload; upload them in several goes.",
                           "一次最多上传 {count} 个文件，请分几次上传。"),
    "upload_too_large": Text("at most {megabytes:g} MB an upload; upload in several goes, "
                             "or smaller files.",
                             "一次最多上传 {megabytes:g} MB，请分几次上传，或上传较小的文件。"),
    "form_expired": Text("the form has expired (its security token is missing or old); "
                         "reload the upload page and send it again.",
                         "表单已失效（缺少或过期的安全令牌）。请刷新上传页面后重新提交。"),
    "report_deleted": Text("deleted the report {source} ({passages:,} passages); "
                           "searches will not show it again.",
                           "已删除报告“{source}”（{passages:,} 个段落），搜索中不会再出现它。"),
    "host_not_allowed": Text("this host name is not allowed; to use it, add it to the server's "
                             "ZHSEARCH_ALLOWED_HOSTS.",
                             "请求的主机名不被允许。如需用这个名字访问，请在服务器的"
                             "环境变量 ZHSEARCH_ALLOWED_HOSTS 中加入它。"),
    "cross_site": Text("a form sent from another site is refused; use this site's own pages.",
                       "拒绝来自其他网站的提交。请直接在本站的页面上操作。"),
    # The web's error pages: a title and a default text by HTTP status.
    "http title": Text("Error", "出错了"),
    "http 400 title": Text("Bad request", "请求有误"),
    "http 403 title": Text("Forbidden", "无法访问"),
    "http 404 title": Text("Not found", "找不到页面"),
    "http 405 title": Text("Method not allowed", "不支持的请求方式"),
    "http 413 title": Text("Upload too large", "上传的内容太大"),
    "http 500 title": Text("Server error", "服务器出错了"),
    "http 503 title": Text("Unavailable", "暂时无法服务"),
    "http": Text("the request cannot be completed.", "请求无法完成。"),
    "http 400": Text("the request's parameters are wrong; check them and try again.",
                     "请求的参数不对，请检查后再试。"),
    "http 403": Text("you may not open this page.", "没有权限访问这个页面。"),
    "http 404": Text("nothing is at this address; check the link, or search again from the home page.",
                     "这个地址没有内容，请检查链接，或从首页重新搜索。"),
    "http 405": Text("this address does not take this kind of request.", "这个地址不接受这种请求方式。"),
    "http 500": Text("handling the request failed; the server's log has it. Try again later.",
                     "处理请求时出了错，已记录在服务器日志里。请稍后再试。"),
    "http 503": Text("the service is unavailable for now; try again later.", "服务暂时不可用，请稍后再试。"),
    # The server's own refusals, before the app sees the request (web/server.py).
    "server 400": Text("the request is malformed.", "请求格式有误。"),
    "server 413": Text("the upload is too large; upload fewer or smaller files at a time.",
                       "上传的内容太大，请分几次上传，或上传较小的文件。"),
    "server 431": Text("the address or the request headers are too long (over {kb} KB). A query is "
                       "searched up to its first 1,000 characters; shorten it and try again.",
                       "网址或请求头太长（超过 {kb} KB）。查询词最多搜索 1,000 个字，请缩短后再试。"),
    "back home": Text("Back to the home page", "返回首页"),
    "no_web_server": Text("the web server is not installed. Hint: run `pip install -e .` again.",
                          "网页服务器没有安装。提示：再运行一次 `pip install -e .`。"),
    # The 报告 pages.
    "sort date": Text("by date", "按日期"),
    "sort name": Text("by name", "按名称"),
    "sort passages": Text("by passages", "按段落数"),
    "size bytes": Text("{size} bytes", "{size} 字节"),
    # 为什么匹配: each rule of indexer/explain.py as a reader would say it.
    "rule word": Text("the word itself: the passage holds it (several words: next to each other)",
                      "词语本身：段落里有这个词（几个词时，它们紧挨着）"),
    "rule inside": Text("inside a longer word", "在更长的词里"),
    "rule across": Text("across words: segmentation cut it between several words; found in the text",
                        "跨越词语：分词把它切在了几个词之间，仍按原文找到"),
    "rule apart": Text("apart: every word is there, not next to each other", "分散出现：每个词都在，但不相邻"),
    "rule synonym": Text("a synonym or abbreviation", "同义词或简称"),
    "rule shared": Text("a word the question and the passage share (a question does not need every word)",
                        "问题与段落共有的词（问句不要求每个词都出现）"),
    "rule missing": Text("not in the passage (the other side of OR, or a relaxed question)",
                         "段落里没有（“或”的另一项，或放宽后的问句）"),
    # The command line.
    "error": Text("Error: {message}", "错误：{message}"),
    "refused": Text("refused {name}: {reason}", "已拒绝 {name}：{reason}"),
    "see_help": Text("{message} See `{command} --help`.", "{message}（见 `{command} --help`）"),
    "status added": Text("added", "已添加"),
    "status updated": Text("updated", "已更新"),
    "status unchanged": Text("unchanged", "未变化"),
    "status removed": Text("removed", "已删除"),
    "status refused": Text("refused", "已拒绝"),
    "env_help": Text("{help} (env {env})", "{help}（环境变量 {env}）"),
    "file_line": Text("{status} {name}", "{status} {name}"),
    "file_passages": Text("{status} {name} ({passages} passages)", "{status} {name}（{passages} 个段落）"),
    "count_files": Text("{count:,} file{s}", "共 {count:,} 个文件"),
    "count_status": Text("{count:,} {status}", "{status} {count:,} 个"),
    "count_written": Text("; {count:,} passage{s} written.", "；写入 {count:,} 个段落。"),
    "counts": Text("{files}: {statuses}{written}", "{files}：{statuses}{written}"),
    "list_separator": Text(", ", "，"),
    "sentence_end": Text(".", "。"),
    "indexed": Text("{files} files, {passages} passages indexed.", "已索引 {files} 个文件，{passages} 个段落。"),
    "moved_aside": Text("The damaged index was moved to {folder}.", "损坏的索引已移到 {folder}。"),
    "repairing": Text("repairing {source}: {problem}", "正在修复 {source}：{problem}"),
    "in_corpus_folder": Text("refused {folder}: it is the corpus folder or inside it; "
                             "`zhsearch index` indexes what is there",
                             "已拒绝 {folder}：它就是语料库文件夹或在其中；`zhsearch index` 会索引那里的文件"),
    "empty_folder": Text("refused {folder}: no report files in it", "已拒绝 {folder}：里面没有报告文件"),
    "skipped": Text("skipped {count} file{s} not in a report format: {shown}{more}",
                    "已跳过 {count} 个不是报告格式的文件：{shown}{more}"),
    "skipped_more": Text(" and {count} more", " 等另外 {count} 个"),
    "kept_both": Text("kept both: {other} is {wanted}, so {path} goes in as {name}",
                      "两个都保留：{other} 已是 {wanted}，所以 {path} 以 {name} 加入"),
    "removed_file": Text("removed {name} ({passages} passages)", "已删除 {name}（{passages} 个段落）"),
    "cannot_write_output": Text("cannot write {path}: {reason}", "无法写入 {path}：{reason}"),
    "no_output_folder": Text("cannot write {path}: no folder {folder}", "无法写入 {path}：没有文件夹 {folder}"),
    "rows_written": Text("{count:,} hit{s} written to {path}", "已将 {count:,} 条结果写入 {path}"),
    "problems_found": Text("{count} problem{s} found. Hint: run `zhsearch index` to repair the index.",
                           "发现 {count} 个问题。请运行 `zhsearch index` 修复索引。"),
    "check_ok": Text("OK: {count} files, each indexed once with its current content.",
                     "正常：{count} 个文件，每个都按当前内容索引了一次。"),
    "serving": Text("zhsearch: serving {corpus} on http://{host}:{port}/ (Ctrl+C stops)",
                    "zhsearch：正在 http://{host}:{port}/ 提供 {corpus} 的搜索（按 Ctrl+C 停止）"),
    "corpus_changed": Text("The corpus changed since it was indexed: run `zhsearch index`.",
                           "语料库在索引之后有变化：请运行 `zhsearch index`。"),
    # What search, explain, show, reports, versions and stats print.
    "query_truncated": Text("Note: the query is longer than {chars:,} characters or {terms} terms; "
                            "only its beginning was searched.",
                            "注意：查询超过 {chars:,} 个字符或 {terms} 个词项，只搜索了开头部分。"),
    "no_match": Text("No passages match {query}.", "没有段落与 {query} 匹配。"),
    "did_you_mean": Text("Did you mean: {suggestion}", "您是不是要找：{suggestion}"),
    "counted articles": Text("articles", "篇文章"),
    "counted stories": Text("stories", "篇报道"),
    "counted passages": Text("passages", "个段落"),
    "results": Text("{first}-{last} of {total} {counted} match {query} ({took} ms)",
                    "与 {query} 匹配的共 {total} {counted}，这是第 {first}-{last} 条（{took} 毫秒）"),
    "results_none": Text("none of {total} {counted} match {query} ({took} ms)",
                         "与 {query} 匹配的共 {total} {counted}，这一页没有（{took} 毫秒）"),
    "more_here": Text("{count} more in this article", "本文另有 {count} 处匹配"),
    "same_story": Text("+{count} same story in other report{s}", "另有 {count} 篇相同报道"),
    "query_words": Text("query words:   {words}", "查询的词：{words}"),
    "passage_words": Text("passage words: {words}", "段落的词：{words}"),
    "untitled": Text("(untitled)", "（无标题）"),
    "undated": Text("undated", "无日期"),
    "reports_header": Text("{date:<10}  {articles:>8}  {passages:>8}  {size:>11}  report",
                           "{date:<10}  {articles:>8}  {passages:>8}  {size:>11}  报告"),
    "header date": Text("date", "日期"),
    "header articles": Text("articles", "文章"),
    "header passages": Text("passages", "段落"),
    "header bytes": Text("bytes", "字节"),
    "reports_summary": Text("{count:,} report{s}, {articles:,} articles, {passages:,} passages.",
                            "共 {count:,} 个报告，{articles:,} 篇文章，{passages:,} 个段落。"),
    "by_year": Text(" By year: {years}.", "按年：{years}。"),
    "no_versions": Text("No earlier versions of {name} are kept.", "没有保存 {name} 的旧版本。"),
    "version_line": Text("{number}\t{saved}\t{size} bytes", "{number}\t{saved}\t{size} 字节"),
    "restore_one": Text("Restore one with `zhsearch restore {name} --version N`.",
                        "用 `zhsearch restore {name} --version N` 恢复其中一个。"),
    "stats corpus": Text("corpus:   {value}", "语料库：{value}"),
    "stats index": Text("index:    {value} ({mb:.1f} MB)", "索引：  {value}（{mb:.1f} MB）"),
    "stats files": Text("files:    {value}", "文件：  {value}"),
    "stats articles": Text("articles: {value}", "文章：  {value}"),
    "stats passages": Text("passages: {value}", "段落：  {value}"),
    "stats words": Text("words:    {value}", "词语：  {value}"),
    "stats dates": Text("dates:    {first} to {last}", "日期：  {first} 至 {last}"),
    # The progress bar (tqdm): the verb, the files done, the rest of the line.
    "indexing": Text("Indexing", "正在索引"),
    "adding": Text("Adding", "正在添加"),
    "files_done": Text("{done}/{files} files", "{done}/{files} 个文件"),
    "files_read": Text("{done}/{files} files read in {elapsed}", "已读完 {done}/{files} 个文件，用时 {elapsed}"),
    "bar": Text("{{desc}} {{percentage:3.0f}}%|{{bar}}| {{files}}, {{n_fmt}}/{{total_fmt}}B, "
                "{{rate_noinv_fmt}}, {{remaining}} left to read",
                "{{desc}} {{percentage:3.0f}}%|{{bar}}| {{files}}，{{n_fmt}}/{{total_fmt}}B，"
                "{{rate_noinv_fmt}}，还需 {{remaining}} 读完"),
    "bar_writing": Text("{{desc}}: {{files}}; writing the index... {{elapsed}}",
                        "{{desc}}：{{files}}；正在写入索引…… {{elapsed}}"),
    # click's own headings, for --help.
    "Usage: ": Text("Usage: ", "用法："),
    "Options": Text("Options", "选项"),
    "heading": Text("{heading}:", "{heading}："),
    "Commands": Text("Commands", "命令"),
}


_JSON = Text("Print one JSON object instead of text.", "输出一个 JSON 对象，而不是文本。")
_EACH_FILE = Text("A line per file even on a terminal, where a progress bar and a summary stand "
                  "in for them.", "在终端上也逐个文件输出一行（否则显示进度条和汇总）。")
_UPDATE_LINES = Text("When the index is brought up to date first, a line per file on stderr.",
                     "先更新索引时，在标准错误上逐个文件输出一行。")
_AFTER = Text(" Same as before the command.", "与写在命令之前相同。")

# The --help of every command and option, by command name, and by "command
# --option" or "--option" (any command). English is click's, as before.
HELP: dict[str, Text] = {
    "zhsearch": Text("Full-text search for Chinese report and news files.",
                     "中文报告和新闻文件的全文搜索。"),
    "--corpus": Text("Folder of report files.", "报告文件所在的文件夹。"),
    "--index": Text("Folder of the search index.", "搜索索引所在的文件夹。"),
    "--host": Text("Address to listen on; anything but loopback needs ZHSEARCH_UPLOAD_TOKEN "
                   "for uploads.",
                    "监听的地址；不是本机回环地址时，上传需要 ZHSEARCH_UPLOAD_TOKEN。"),
    "--port": Text("Port to listen on.", "监听的端口。"),
    "--threads": Text("Worker threads of the WSGI server.", "WSGI 服务器的工作线程数。"),
    "--version": Text("Show the version and exit.", "显示版本并退出。"),
    "--help": Text("Show this message and exit.", "显示本帮助并退出。"),
    "--json": _JSON,
    "index": Text(
        """Bring the index in line with the corpus folder (new, changed, deleted files).

A missing corpus folder is an error, and a sync that would remove more
than half of the indexed reports is refused unless --allow-removals.

On a terminal, a progress bar on stderr shows the files read, the MB/s
and the time left to read them, then that the index is being written;
refused files are still named, each on a line, and a
line of counts ends. With --verbose, or when the output is not a
terminal (a pipe, a file, a CI log), a line per file instead.""",
        """让索引与语料库文件夹一致（新增、修改、删除的文件）。

语料库文件夹不存在是错误；一次同步若要删除一半以上已收录的报告，除非加 --allow-removals，否则拒绝。

在终端上，标准错误上的进度条显示已读的文件、MB/s 和读完还需的时间，然后显示正在写入索引；被拒绝的文件仍逐行列出，最后一行是计数。加 --verbose，或输出不是终端（管道、文件、CI 日志）时，改为每个文件一行。"""),
    "index --rebuild": Text("Throw the index away and build it anew.", "丢弃索引，重新建立。"),
    "index --allow-removals": Text(
        "Remove the reports gone from the corpus folder even when that is every indexed report or "
        "more than half of them (refused without it, as an emptied, unmounted or mistyped folder "
        "would do that).",
        "即使要删除全部或一半以上已收录的报告，也从索引中删除语料库文件夹里已没有的报告（不加此选项时拒绝："
        "清空、未挂载或写错的文件夹都会造成这种情况）。"),
    "index --verbose": _EACH_FILE,
    "search": Text(
        """Search the corpus: words must all occur, "quotes" for exact text,
-word to exclude, OR for either.

The index is built or brought up to date first when the corpus changed,
with a progress bar on stderr when that is a terminal (none with --json);
--verbose names every file it read, on stderr.""",
        """搜索语料库：每个词都要出现，"引号"内为原文，-词 表示排除，OR 表示任一。

语料库有变化时先建立或更新索引，标准错误是终端时显示进度条（--json 时不显示）；--verbose 在标准错误上列出读过的每个文件。"""),
    "search --limit": Text("Passages per page; 0 shows every hit.", "每页段落数；0 显示全部结果。"),
    "search --page": Text("Which page of results.", "结果的第几页。"),
    "--source": Text("Only passages from this corpus file.", "只看语料库中这个文件的段落。"),
    "--from": Text("Only reports dated on or after.", "只看这一天及以后的报告。"),
    "--to": Text("Only reports dated on or before.", "只看这一天及以前的报告。"),
    "search --sort": Text("Order of the results.", "结果的排序方式。"),
    "search --group": Text(
        "One hit per article (its best passage); the total counts articles, and -word leaves out "
        "every article that holds the word anywhere.",
        "每篇文章一条结果（最相关的段落）；总数按文章计，-词 排除任何地方含有该词的文章。"),
    "search --fold": Text(
        "The same story once: a passage that other reports carry too (a wire copy, differing only "
        "in spacing or punctuation) is one hit, its copies listed under it; the total counts stories.",
        "相同报道只显示一次：其他报告也刊登的段落（通稿，只差空白或标点）算一条结果，副本列在其下；总数按报道计。"),
    "search --in": Text("Match everywhere, or article titles only.", "在全文中匹配，或只在文章标题中匹配。"),
    "search --verbose": _UPDATE_LINES,
    "explain": Text(
        """Why a passage matched a query: how both were cut into words, and which
rule matched each term (PASSAGE_ID is a hit's "id" in `search --json`).""",
        """为什么一个段落与查询匹配：两者各被切成哪些词，每个词项按哪条规则匹配（PASSAGE_ID 是 `search --json` 中结果的 "id"）。"""),
    "reports": Text(
        """List every report: its date, articles, passages, size and the units its
article titles name; then how many reports each year has.""",
        """列出每个报告：日期、文章数、段落数、大小和文章标题中的单位；然后是每年的报告数。"""),
    "reports --sort": Text("date: newest first; name: by pinyin; passages: most first.",
                           "date：最新的在前；name：按拼音；passages：段落最多的在前。"),
    "show": Text("Print a whole article, its passages in order (ARTICLE_ID as `search --json` gives it).",
                 "按顺序显示一整篇文章的段落（ARTICLE_ID 见 `search --json`）。"),
    "export": Text(
        """Write every hit of a query (the words as `search` takes them) as rows:
source, title, section, date, paragraph, page, text.""",
        """把一个查询（写法同 `search`）的每条结果写成行：source、title、section、date、paragraph、page、text。"""),
    "export --format": Text("csv: UTF-8 with a BOM, for spreadsheets; jsonl: one JSON object a line.",
                            "csv：带 BOM 的 UTF-8，供电子表格打开；jsonl：每行一个 JSON 对象。"),
    "export --output": Text("Write to this file (replaced in one step) instead of standard output.",
                            "写入这个文件（一步替换），而不是标准输出。"),
    "export --sort": Text("Order of the rows.", "行的顺序。"),
    "add": Text(
        """Copy report files, or every report under folders, into the corpus and index them.

A folder's reports keep their place under the folder's name (hidden
files skipped); two files of one add with the same name are both kept,
the later under a numbered name. Files that cannot be read are refused
with the reason; the others still go in, and the exit status is 1 if
any was refused.

On a terminal, a progress bar on stderr shows the files read, the MB/s
and the time left to read them, then that the index is being written;
refused and skipped files are still named, and a line
of counts ends. With --verbose, or when the output is not a terminal (a
pipe, a file, a CI log), a line per file instead.""",
        """把报告文件，或文件夹下的每个报告，复制到语料库并建立索引。

文件夹里的报告放在以文件夹命名的位置下（跳过隐藏文件）；一次添加中同名的两个文件都保留，后一个使用编号的名字。无法读取的文件会被拒绝并说明原因；其他文件照常加入，只要有文件被拒绝，退出状态就是 1。

在终端上，标准错误上的进度条显示已读的文件、MB/s 和读完还需的时间，然后显示正在写入索引；被拒绝和跳过的文件仍会列出，最后一行是计数。加 --verbose，或输出不是终端（管道、文件、CI 日志）时，改为每个文件一行。"""),
    "add --verbose": _EACH_FILE,
    "remove": Text("Remove report files (names relative to the corpus) and their passages.",
                   "删除报告文件（相对于语料库的名字）及其段落。"),
    "versions": Text("List the kept earlier versions of a report (an upload, add or remove keeps them).",
                     "列出一个报告保存的旧版本（上传、添加或删除时会保存）。"),
    "restore": Text(
        """Bring back an earlier version of a report and index it; the content it
replaces is kept as a version in turn.""",
        """恢复报告的一个旧版本并建立索引；被替换的内容也会作为一个版本保存。"""),
    "restore --version": Text("Which version (see `zhsearch versions NAME`); the latest by default.",
                              "哪个版本（见 `zhsearch versions 名字`）；默认是最新的。"),
    "stats": Text("Show what the index holds.", "显示索引中有什么。"),
    "stats --files": Text("Also list the indexed files.", "同时列出已索引的文件。"),
    "check": Text("Verify that the index matches the corpus; exit 1 and say how to repair if not.",
                  "检查索引与语料库是否一致；不一致时退出状态为 1，并说明如何修复。"),
    "serve": Text(
        """Serve the web search page (a process per core), building the index first when needed.

That build shows a progress bar on stderr when it is a terminal;
--verbose names every file it read, on stderr.""",
        """提供网页搜索（每个 CPU 核一个进程），需要时先建立索引。

建立索引时，标准错误是终端则显示进度条；--verbose 在标准错误上列出读过的每个文件。"""),
    "serve --verbose": _UPDATE_LINES,
    # --corpus and --index after a command's name (the help of the settings, and this).
    "after the command": _AFTER,
}


class _Blank(dict):
    """Details for ``str.format_map``: a field no detail gives is empty."""

    def __missing__(self, key: str) -> str:
        return ""


def _fill(template: str, details: Mapping[str, object]) -> str:
    """``template`` with its ``{…}`` fields filled from ``details``; a field
    that no detail gives is left empty, never a KeyError."""
    return template.format_map(_Blank(details))


def language(environ: Mapping[str, str] | None = None) -> str:
    """``"zh"`` when the user's locale for messages is Chinese, else ``"en"``.

    gettext's order: the first of ``LC_ALL``, ``LC_MESSAGES`` and ``LANG``
    that is set names the locale; when that is not ``C``/``POSIX``, the
    colon-separated ``LANGUAGE`` list, if set, comes first, and its first
    language zhsearch speaks wins.

    >>> language({"LANG": "zh_CN.UTF-8"}), language({"LANG": "en_US.UTF-8"})
    ('zh', 'en')
    >>> language({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"})
    'en'
    >>> language({"LANG": "en_US.UTF-8", "LANGUAGE": "fr:zh_TW"})
    'zh'
    >>> language({"LANG": "C", "LANGUAGE": "zh_CN"})  # gettext ignores LANGUAGE under C
    'en'
    """
    env = os.environ if environ is None else environ
    locale = next((env[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(name)), "")
    if locale.split(".")[0] in ("", "C", "POSIX"):
        return "en"
    for wanted in [*env.get("LANGUAGE", "").split(":"), locale]:
        code = wanted.split(".")[0].split("@")[0].split("_")[0].lower()
        if code in LANGUAGES:
            return code
    return "en"


class Catalogue:
    """The messages of one language, chosen once (gettext's ``_()``)."""

    def __init__(self, lang: str = "en"):
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        self.lang = lang

    @classmethod
    def for_user(cls, environ: Mapping[str, str] | None = None) -> Catalogue:
        """The catalogue of the user's locale (:func:`language`)."""
        return cls(language(environ))

    def _pick(self, text: Text) -> str:
        return text.zh if self.lang == "zh" else text.en

    def text(self, key: str, **details: object) -> str:
        """The front-door text ``key`` with its details filled in."""
        return _fill(self._pick(TEXTS[key]), details)

    def help(self, command: str, option: str | None = None) -> str:
        """The ``--help`` text of ``command``, or of its ``option`` (``--limit``)."""
        if option is None:
            return self._pick(HELP[command])
        return self._pick(HELP.get(f"{command} {option}") or HELP[option])

    def short_help(self, command: str) -> str | None:
        """The line ``zhsearch --help`` lists ``command`` with: click's own cut
        of the English (None); the first sentence of the Chinese, which has no
        spaces for click to cut at.

        >>> Catalogue("zh").short_help("export")
        '把一个查询（写法同 `search`）的每条结果写成行。'
        """
        if self.lang != "zh":
            return None
        first = HELP[command].zh.split("\n")[0]
        return first.split("：")[0] + "。" if "：" in first else first.split("。")[0] + "。"

    def error(self, code: str, **details: object) -> str:
        """The text of an error code: its Chinese, or what it means in English."""
        return _fill(self._pick(ERRORS.get(code, ERRORS["damaged_file"])), details)

    def reason(self, code: str | None, reason: str, **quoted: object) -> str:
        """Why a file was refused, as a person reads it: the store's own
        ``reason`` (English, naming what it found), or the Chinese of its
        ``code`` quoting ``quoted`` (:func:`indexer.readers.quoted_limits`).

        >>> ZH.reason("empty_file", "the file is empty"), EN.reason("empty_file", "the file is empty")
        ('文件是空的', 'the file is empty')
        """
        return self.error(code, **quoted) if self.lang == "zh" and code else reason

    def refusal(self, error: BaseException, **quoted: object) -> str:
        """A library error as a person reads it: the error's own English
        message and hint, or the Chinese of its code, quoting ``quoted`` (the
        reader limits: :func:`indexer.readers.quoted_limits`) and the
        error's details."""
        code = getattr(error, "code", "damaged_file")
        if self.lang == "zh":
            text = self.error(code, **quoted, **getattr(error, "details", {}))
            hint = HINTS[code].zh if code in HINTS else ""
            return f"{text}提示：{hint}。" if hint else text
        # The English message names the file or the value; the hint says what to do.
        hint = getattr(error, "hint", "")
        return f"{error}. Hint: {hint}." if hint else str(error)


ZH = Catalogue("zh")
EN = Catalogue("en")
