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


def _wan(number: int) -> str:
    """A limit in units of 10,000 (万), as the Chinese texts count.

    >>> _wan(2_000_000)
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
    "read_budget": Text("the files of one add or upload used up the time they may take to read",
                        "这一批文件的读取时间已用完，这个文件没有读取；请单独再上传一次"),
    # The index.
    "index_locked": Text("another process is writing the index",
                         "索引正在被另一个 zhsearch 程序写入，请稍后再试。"),
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
    # The command line.
    "error": Text("Error: {message}", "错误：{message}"),
    "refused": Text("refused {name}: {reason}", "已拒绝 {name}：{reason}"),
}


def _fill(template: str, details: Mapping[str, object]) -> str:
    """``template`` with its ``{…}`` fields filled from ``details``; a field
    that no detail gives is left empty, never a KeyError."""
    class Blank(dict):
        def __missing__(self, key: str) -> str:
            return ""

    values = Blank(_limits() if "{" in template else {})
    values.update(details)
    return template.format_map(values)


def _limits() -> dict[str, str]:
    """The values the texts of refusals quote: the suffixes zhsearch reads
    and the reader limits. Looked up when a text is made: indexer.readers
    raises the errors that read this catalogue."""
    from indexer.readers import limits, supported_suffixes

    return {"value": "", "suffixes": " ".join(supported_suffixes()),
            "max_text_chars": _wan(limits.MAX_TEXT_CHARS), "max_line_chars": _wan(limits.MAX_LINE_CHARS),
            "max_lines": _wan(limits.MAX_LINES), "max_paragraphs": _wan(limits.MAX_PARAGRAPHS),
            "max_html_elements": _wan(limits.MAX_HTML_ELEMENTS),
            "max_docx_pieces": _wan(limits.MAX_DOCX_PIECES), "max_pages": f"{limits.MAX_PAGES:,}",
            "max_decompressed": limits.megabytes(limits.MAX_DECOMPRESSED_BYTES)}


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

    def error(self, code: str, **details: object) -> str:
        """The text of an error code: its Chinese, or what it means in English."""
        return _fill(self._pick(ERRORS.get(code, ERRORS["damaged_file"])), details)

    def refusal(self, error: BaseException) -> str:
        """A library error as a person reads it: the error's own English
        message and hint, or the Chinese of its code."""
        code = getattr(error, "code", "damaged_file")
        if self.lang == "zh":
            return self.error(code, **getattr(error, "details", {}))
        # The English message names the file or the value; the hint says what to do.
        hint = getattr(error, "hint", "")
        return f"{error}. Hint: {hint}." if hint else str(error)


ZH = Catalogue("zh")
EN = Catalogue("en")
