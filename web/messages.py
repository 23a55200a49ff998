"""The Chinese text of every error code the library raises or reports.

The library speaks English with stable codes (:data:`indexer.errors.CODES`);
this table is the one place the web turns a code into Chinese. A text may
quote the error's details (``{value}``) and the supported suffixes
(``{suffixes}``); a test checks that every code has its text.
"""

from __future__ import annotations

from indexer.errors import ZhsearchError
from indexer.readers import limits, supported_suffixes

ZH: dict[str, str] = {
    "unsupported_format": "不支持的文件格式，可以上传：{suffixes}",
    "empty_file": "文件是空的",
    "no_text": "文件里没有可以搜索的文字",
    "binary_file": "看起来是二进制文件，不是文本",
    "unknown_encoding": "无法识别文字编码，请另存为 UTF-8、GB18030 或 Big5",
    "damaged_file": "文件已损坏或无法读取",
    "old_word": "这是旧版 Word（.doc）文件，请在 Word 中另存为 .docx 后再上传",
    "damaged_docx": "Word 文件已损坏（不是完整的 .docx）",
    "not_word": "不是 Word 文档（可能是其他 Office 文件）",
    "not_pdf": "不是 PDF 文件（缺少 PDF 文件头）",
    "pdf_password": "PDF 设有密码，请另存一份不加密的副本",
    "pdf_encrypted": "PDF 的加密方式无法打开",
    "pdf_no_unicode": "PDF 的字体没有文字编码表，无法读出文字",
    "pdf_scanned": "这是扫描版 PDF，没有文字层；zhsearch 不做文字识别（OCR）",
    "bad_name": "文件没有名字",
    "name_hidden": "文件名不能以点（.）开头",
    "name_control": "文件名含有控制字符",
    "name_encoding": "文件名不是 UTF-8 编码，请改名后再添加",
    "cannot_read": "无法读取语料库文件夹里的这个文件",
    "name_too_long": "文件名太长（最多 255 字节）",
    "no_such_file": "文件不存在",
    "too_large": "文件太大，请拆分成较小的报告",
    "cannot_write": "无法写入语料库文件夹",
    "same_name_in_batch": "同一批上传中后面还有同名文件",
    "symlink": "这是符号链接，请直接添加它指向的文件",
    "too_much_text": f"文字太多（超过 {limits.MAX_TEXT_CHARS // 10_000:,} 万字），请拆分成较小的报告",
    "line_too_long": f"有一行超过 {limits.MAX_LINE_CHARS // 10_000:,} 万字，不像文本报告",
    "too_many_lines": f"行数太多（超过 {limits.MAX_LINES // 10_000:,} 万行），请拆分成较小的报告",
    "too_many_paragraphs": f"段落太多（超过 {limits.MAX_PARAGRAPHS // 10_000:,} 万段），请拆分成较小的报告",
    "too_many_elements": f"网页元素太多（超过 {limits.MAX_HTML_ELEMENTS // 10_000:,} 万个），不像一篇网页文章",
    "inflates_too_much": f"Word 文件解压后超过 {limits.megabytes(limits.MAX_DECOMPRESSED_BYTES)}，不像一份报告",
    "too_many_parts": "Word 文件包含的部件太多，不像一份报告",
    "too_many_runs": f"Word 文件的文字片段太多（超过 {limits.MAX_DOCX_PIECES // 10_000:,} 万个），不像一份报告",
    "too_many_pages": f"页数太多（超过 {limits.MAX_PAGES:,} 页），请拆分成较小的报告",
    "page_too_large": "PDF 有一页的绘制指令或文字多得不像报告",
    "read_timeout": "读取这个文件用时太长，已停止读取",
    "read_memory": "读取这个文件需要的内存太多，已停止读取",
    "read_budget": "这一批文件的读取时间已用完，这个文件没有读取；请单独再上传一次",
    "index_locked": "索引正在被另一个 zhsearch 程序写入，请稍后再试。",
    "index_corrupt": "索引无法打开。请管理员运行 `zhsearch index --rebuild` 重建索引。",
    "no_index": "还没有索引。请管理员运行 `zhsearch index` 建立索引。",
    "bad_dictionary": "语料库的用户词典 userdict.dic 无法使用（文件太大、行数太多、有过长的词或过大的频率，"
                      "或不是 UTF-8 文本）。请管理员修正它。",
    "bad_synonyms": "语料库的同义词表 synonyms.dic 无法使用（文件太大、行数太多、一组同义词太多，"
                    "或不是 UTF-8 文本）。请管理员修正它。",
    "index_read_only": "索引文件夹无法写入（只读或没有权限），暂时不能添加报告；搜索不受影响。",
    "disk_full": "磁盘已满，暂时不能添加报告；搜索不受影响。请管理员清理磁盘空间。",
    "no_corpus": "语料库文件夹不存在或无法读取，暂时不能添加报告；搜索不受影响。请管理员检查语料库文件夹（是否已挂载）。",
    "too_many_removals": "语料库文件夹里缺少大部分已收录的报告，为防误删，索引没有更新。请管理员检查语料库文件夹。",
    "not_in_corpus": "语料库中没有这个报告：{value}",
    "unknown_article": "没有这篇文章：它所在的文件可能已被删除或改名。",
    "no_such_version": "没有保存这个报告的这个旧版本：{value}",
    "empty_query": "请输入要搜索的词。",
    "bad_page": "页码应为 1 或更大的整数。",
    "bad_limit": "每页条数不能为负数。",
    "bad_group": "分组方式只能是 article（按文章）。",
    "bad_fold": "合并方式只能是 same（合并相同报道）或 none（不合并）。",
    "bad_scope": "搜索范围只能是 all（全文）或 title（标题）。",
    "bad_sort": "排序方式只能是 relevance（按相关度）或 date（按日期）。",
    "bad_date": "日期“{value}”无效，请写成 年-月-日，例如 2023-05-15。",
    "bad_date_range": "开始日期晚于结束日期，请检查日期范围。",
    "unknown_source": "语料库中没有名为“{value}”的报告。",
    "bad_format": "导出格式只能是 csv 或 jsonl。",
    "too_many_hits": "这次搜索共有 {total} 条结果，超过一次导出的上限 {limit} 条。请加上文件或日期筛选，缩小范围后再导出。",
}


def zh(code: str, **details: object) -> str:
    """The Chinese text of ``code``, its details filled in.

    >>> zh("bad_date", value="2023-13-01")
    '日期“2023-13-01”无效，请写成 年-月-日，例如 2023-05-15。'
    """
    values = {"value": "", "suffixes": " ".join(supported_suffixes()), **details}
    return ZH.get(code, ZH["damaged_file"]).format(**values)


def zh_error(error: ZhsearchError) -> str:
    return zh(error.code, **error.details)
