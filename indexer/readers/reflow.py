"""Rebuild the paragraphs of hard-wrapped text, deciding from the file as a whole.

Text copied off a web page, a newspaper or a PDF is wrapped at a column
width, so words and names are cut across lines (``代表大|会``). Whether a line
break is a wrap or a paragraph end cannot be told from one line: it depends
on the file's *layout*, measured once for the whole file (:class:`Layout`):

``margin``
    White space every line starts with is page margin, not indentation.
``measure``
    The width most lines are wrapped at, in display columns (a Chinese
    character 1, a Latin letter or digit ½, as a page shows them) or, for
    text wrapped by a tool that counts characters, in characters: the text
    is measured both ways when it holds ASCII, and the reading that explains
    more of its line ends as wraps wins. Only lines that do not end a
    sentence and are not bylines or date lines count, so an unwrapped file
    (one paragraph a line) has no measure; nor has a file with fewer than
    three such lines.
``spacing``
    The number of blank lines after a line that plainly wraps on: 0 in most
    files, 1 in text with a blank line after every line.
``indents``
    Whether most lines after a sentence end are indented (full-width or
    ASCII spaces).

The rules, in the order :meth:`Layout.runs_on` applies them to a line break
(does line ``b`` carry on the paragraph of line ``a``?), and what each is for:

R1 *more blank lines than the spacing* end a paragraph: in a file with no
   blank lines between the lines of a paragraph, a blank line is a break.
R2 *an indented line* starts a paragraph.
R3 *with no measure* (a few lines, or text not wrapped at all), ``a`` runs on
   when it ends inside a word (a Chinese character, letter or digit), is no
   byline, date line or credit, is as wide as the widest line and at least
   as wide as ``b``: the first line of a wrapped paragraph is never shorter
   than the next; a headline before a paragraph usually is.
R4 *a line that reaches the measure and does not end a sentence* runs on,
   whatever ``b`` looks like: a wrapped paragraph can put ``记者``,
   ``新华社`` or a date at the start of a line.
R5 *a full line that ends a sentence* runs on only into another full line
   that is no byline or date line, and only when the file does not mark
   paragraphs by indentation (then a missing indent says "same paragraph").
R6 *a short line that ends a sentence, or is a byline, date line, credit,
   unit header or salutation* ends its paragraph (see :func:`standalone_kind`).
R7 *a short line runs on when ``b``'s first word would not have fit*: a URL,
   a number or an English word moved whole to the next line.
R8 *a line a little short of the measure, before a full line*, runs on
   when it does not end a clause: a paragraph's first line set after a drop
   cap or an indent that was not copied as spaces (the bundled report's
   ``代表大|会``). A little: at most an indent and a half (3.5 columns) and
   a fifth of the measure, so that headings stay headings.
R9 *any other line short of the measure* ends its paragraph: a heading, or
   the last line of one.

Every pattern here is anchored or bounded, and lines are only matched
against patterns up to a fixed length: Python's ``re`` holds the GIL for a
whole match, so one quadratic pattern stops every server thread.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache

from indexer.document import BODY, BYLINE, CAPTION, HEADING
from indexer.punctuation import (CLAUSE_ENDS, CLOSERS, NOT_IN_BYLINE, SENTENCE_ENDS,
                                 char_class)

# Block kinds beyond the passage kinds: stand-alone lines that are not text.
UNIT, DATELINE, SALUTATION = "unit", "dateline", "salutation"

_SENTENCE_END = frozenset(SENTENCE_ENDS)
_CLAUSE_END = frozenset(CLAUSE_ENDS)
_CLOSERS = CLOSERS
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SENTENCE_MARK = re.compile(char_class(SENTENCE_ENDS))
_SENTENCE_OR_CLAUSE = re.compile(char_class(NOT_IN_BYLINE))
# The leading word of a line: Latin letters, digits and what URLs are made of.
_LEADING_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~:/?#@!$&'*+,;=%\-]*")
_WHITE = " \t\u3000\u00a0\u2002\u2003\u200b\ufeff"

# Longest line (in characters) that the stand-alone patterns look at: a
# byline, date line or salutation is a short line, never a paragraph.
_STANDALONE_MAX = 48
# A heading is short; a longer line without a full stop is still text.
_HEADING_MAX_WIDTH = 50.0
# How far a wrapped line may fall short of the measure and still be full:
# a Latin letter that did not fit leaves ½, a character pushed down with a
# closing mark that may not start a line leaves 1.
_FULL_SLACK = 1.5
# How much shorter a paragraph's first line may be with its indent lost.
_FIRST_LINE_SHORT = 3.5
# Indentation wider than this is centring (a title), not a paragraph start.
_INDENT_MAX = 2.5
# How far past the measure a line of the measure may run: punctuation hung
# in the margin.
_OVER_SLACK = 1.0


# ASCII, and blocks whose every character is wide (W/F) by east_asian_width:
# Hangul Jamo, CJK punctuation and radicals, kana, CJK ideographs and Yi,
# Hangul syllables, compatibility ideographs, CJK forms, full-width forms.
_ASCII_OR_WIDE = re.compile(
    "[\x00-\x7f\u1100-\u115f\u2e80-\u303e\u3041-\u4dbf\u4e00-\ua4cf\uac00-\ud7a3"
    "\uf900-\ufaff\ufe30-\ufe4f\uff01-\uff60\uffe0-\uffe6]+")


@lru_cache(maxsize=4096)
def _char_width(ch: str) -> float:
    return 1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.5


def display_width(text: str) -> float:
    """Columns a line takes on the page: Chinese and full-width 1, ASCII ½.

    >>> display_width("2023年 Hi")
    4.5
    """
    ascii_count = len(text.encode("ascii", "ignore"))
    if ascii_count == len(text):
        return ascii_count / 2
    # Chinese text is mostly ASCII and characters of the wide blocks: those
    # are counted by a C-speed substitution, the few others one by one (a
    # third of the reflow's time went to a loop over every character).
    rest = _ASCII_OR_WIDE.sub("", text)
    wide = len(text) - ascii_count - len(rest)
    return ascii_count / 2 + wide + sum(_char_width(ch) for ch in rest)


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def join_wrapped(left: str, right: str) -> str:
    """Join two pieces of a wrapped line: no space between Chinese characters,
    one space between Latin words (none inside a number cut by the wrap)."""
    left, right = left.rstrip(), right.lstrip()
    if left and right and _is_word_char(left[-1]) and _is_word_char(right[0]) \
            and not (left[-1].isdigit() and right[0].isdigit()):
        return f"{left} {right}"
    return left + right


def join_lines(pieces: list[str]) -> str:
    """Join the wrapped lines of one paragraph (see :func:`join_wrapped`).

    >>> join_lines(["第十四次代表大", "会以来 Hello", "World，共 12", "345 人"])
    '第十四次代表大会以来 Hello World，共 12345 人'
    """
    joined = ""
    for piece in pieces:
        joined = join_wrapped(joined, piece) if joined else piece.strip()
    return joined


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends with a full stop, before any closing quotes.

    Checked from the end, never by a pattern searched over the line: a line
    of 40,000 ``。`` took 9 s with ``[。！？]+[”’]*$``.

    >>> ends_sentence("他说：“好。”"), ends_sentence("代表大")
    (True, False)
    """
    stripped = text.rstrip(_CLOSERS + _WHITE)
    return bool(stripped) and stripped[-1] in _SENTENCE_END


def _cut_word(text: str) -> bool:
    """Whether ``text`` ends in a Chinese character, letter or digit: where a
    wrap can cut a word."""
    return bool(text) and (bool(_HAN.match(text[-1])) or _is_word_char(text[-1]))


def ends_clause(text: str) -> bool:
    stripped = text.rstrip(_WHITE)
    return bool(stripped) and stripped[-1] in _CLAUSE_END


# --- Stand-alone lines --------------------------------------------------------

_BULLET = "■●◆▲□★☆◎"
_ROLE = re.compile(
    r"(?:全媒体|融媒体|本报|本台|本刊|央视|总台|新华社|特约|见习|实习|首席)?"
    r"(?:记者|通讯员|实习生|摄影记者|摄影|摄像|编辑|责编|责任编辑|校对|审核|审校|撰文|撰稿)"
    r"|[文图][/／:：]|摄$"
)
# Agency datelines before a byline: 本报讯, 新华社北京5月10日电.
_AGENCY = re.compile(
    r"^(?:本报讯|本台消息|央视网消息|新华社电|新华社[\u4e00-\u9fff]{1,8}"
    r"\d{1,2}月\d{1,2}日(?:[\u4e00-\u9fff]{1,3})?电)"
)
_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")
# A byline holds one of these (a quick test before the piece-by-piece one).
_BYLINE_WORD = re.compile(r"记者|通讯员|实习生|摄|编辑|责编|校对|审核|审校|撰文|撰稿|[文图][/／:：]|本报讯|消息|新华社")
# Characters of ordinary words that are not in the short names of a byline.
_NOT_IN_NAMES = frozenset("的了在从对说到是获悉表示这那我们他她和与及向将就")
# A name in a byline starts with a surname: the common ones. (Without this,
# a wrapped line such as 记者央视网消|息 or 本报记者 李四 通讯|员 reads as one.)
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
    "覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符"
    "舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司"
    "卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙"
    "荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼"
    "盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都"
    "普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居"
    "揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由上东皇令")


def _is_name(word: str) -> bool:
    return bool(_NAME.match(word)) and word[0] in _SURNAMES and not _NOT_IN_NAMES.intersection(word)
_DATE = (
    r"(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
    r"|[〇零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日)"
)
_DATELINE = re.compile(
    r"^(?:(?:发布|发稿|更新|刊发|出版)?(?:时间|日期)\s*[:：]\s*)?[（(]?" + _DATE
    + r"(?:\s*(?:星期|周|礼拜)[一二三四五六日天])?(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?[）)]?$"
)
# A caption starts with a bullet or ends with a photo credit (单位供图, 张三 摄).
_CAPTION_START = re.compile(r"^(?:[■●◆▲]|[（(]图)")
_CAPTION_END = re.compile(r"(?:供图|[ 　]摄影?|记者\S{2,4}摄|图片来源[:：]?\S{0,20})[）)]?$")
# Stand-alone kinds told by the whole line (a caption by one of its ends).
_WHOLE_LINE = (BYLINE, "dateline", "salutation", "unit")
_UNIT_HEADER = re.compile(
    r"^\S{2,24}(?:总工会|工会|委员会|政府|党委|局|厅|办公室|中心|公司|集团|协会|联合会|学校|大学"
    r"|医院|街道|管委会|高新区|开发区)[：:]$"
)
# Who a notice or letter is addressed to: 各基层工会： 全体职工： 同志们：
_SALUTATION = re.compile(
    r"^(?:各|全体|尊敬的|亲爱的|敬爱的|致|广大)\S{1,28}[：:]$|^\S{1,20}(?:们|同志|先生|女士)[：:]$"
    r"|^\S{2,40}、\S{1,40}[：:]$"
)


def _is_byline(text: str) -> bool:
    """``记者 张三 通讯员 李四``, ``（新华社记者 王五）``, ``文/张三``: roles
    and short names only (checked piece by piece, no backtracking)."""
    text = text.strip(_BULLET + _WHITE)
    agency = _AGENCY.match(text)
    if agency:
        text = text[agency.end():].strip(_WHITE)
        if not text:
            return True
    if _SENTENCE_OR_CLAUSE.search(text):
        return False
    text = text.strip("（()）" + _WHITE)
    if not _ROLE.match(text):
        return False
    # Every role is followed by names (a photo credit's 摄 comes last):
    # "通讯员" at the end is a byline cut by a wrap.
    parts = _ROLE.split(text.removesuffix("摄"))[1:]
    groups = [part.replace("、", " ").split() for part in parts]
    return all(groups) and all(_is_name(n) for g in groups for n in g)


@lru_cache(maxsize=65536)  # both readings of a file (columns, characters) ask for every line
def standalone_kind(text: str) -> str | None:
    """The kind of a line that stands alone, or None for ordinary text.

    >>> [standalone_kind(t) for t in ["记者 张三", "2023年5月10日", "各基层工会：",
    ...  "肇庆市广宁县总工会：", "记者从国家卫健委获悉"]] == [
    ...  "byline", "dateline", "salutation", "unit", None]  # BYLINE is Kind.BYLINE, a str
    True
    """
    text = text.strip(_WHITE)
    if not text or len(text) > _STANDALONE_MAX:
        # A caption can be a long line; it is told by its ends.
        return CAPTION if text and (_CAPTION_START.match(text)
                                    or _CAPTION_END.search(text[-24:])) else None
    if _BYLINE_WORD.search(text) and _is_byline(text):
        return BYLINE
    if _DATELINE.match(text):
        return DATELINE
    if text[-1] in "：:":
        if _SALUTATION.match(text):
            return SALUTATION
        if _UNIT_HEADER.match(text):
            return UNIT
    if _CAPTION_START.match(text) or _CAPTION_END.search(text):
        return CAPTION
    return None


# --- The layout of a file -------------------------------------------------------


def _indent_width(line: str) -> float:
    width = 0.0
    for ch in line:
        if ch == "\t":
            width += 2.0
        elif ch == "\u3000":
            width += 1.0
        elif ch in _WHITE:
            width += 0.5 if ch not in "\u200b\ufeff" else 0.0
        else:
            break
    return width


@lru_cache(maxsize=65536)  # both readings of a file (columns, characters) ask for every line
def _facts(text: str) -> tuple[bool, str | None, bool, bool]:
    """Of one line: whether it ends a sentence, its stand-alone kind, whether
    it opens alone (nothing runs on into it: a byline, a caption's start) and
    whether it closes alone (it runs on into nothing: a byline, a credit)."""
    kind = standalone_kind(text)
    whole = kind in _WHOLE_LINE
    return (ends_sentence(text), kind, whole or bool(_CAPTION_START.match(text)),
            whole or bool(_CAPTION_END.search(text[-24:])))


@dataclass(slots=True)
class Line:
    text: str         # without the white space around it
    width: float      # display width from the margin, indentation included
    indent: float     # display width of the indentation past the margin
    gap: int          # blank lines before the next line (0 for the last line)
    latin: float      # width of its ASCII characters
    mixed: bool = False  # ASCII in it or its indent: its width depends on the unit
    other: float = 0.0   # its width in the other unit (characters, or display columns)
    sentence_end: bool = False
    standalone: str | None = None
    opens_alone: bool = False
    closes_alone: bool = False

    def __post_init__(self) -> None:
        # Plain attributes: functools.cached_property took a sixth of the reflow's time.
        self.sentence_end, self.standalone, self.opens_alone, self.closes_alone = \
            _facts(self.text)


# One line as scanned: its text, (display width, indent), (characters, indent),
# ASCII characters in its text, ASCII in its indent.
_Scanned = tuple[str, float, float, float, float, int, bool]


def _scan(text: str) -> tuple[list[_Scanned], list[int]]:
    """The non-blank lines of ``text`` measured both ways, and the blank lines after each."""
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found: list[_Scanned] = []
    gaps: list[int] = []
    for line in raw:
        stripped = line.strip(_WHITE + "\f\v")
        if not stripped:
            if gaps:
                gaps[-1] += 1
            continue
        lead = line[:len(line) - len(line.lstrip(_WHITE))]
        found.append((stripped, display_width(stripped), _indent_width(lead),
                      float(len(stripped)), float(len(lead)),
                      len(stripped.encode("ascii", "ignore")), any(c.isascii() for c in lead)))
        gaps.append(0)
    if gaps:
        gaps[-1] = 0
    return found, gaps


def _lines(found: list[_Scanned], gaps: list[int], unit: str) -> list[Line]:
    if not found:
        return []
    display_margin = min(f[2] for f in found)
    char_margin = min(f[4] for f in found)
    lines = []
    for (text, width, indent, chars, char_indent, latin, ascii_lead), gap in zip(found, gaps):
        shown = (width + indent - display_margin, indent - display_margin)
        counted = (chars + char_indent - char_margin, char_indent - char_margin)
        (width, indent), (other, _) = (counted, shown) if unit == "chars" else (shown, counted)
        lines.append(Line(text, width, indent, gap, latin if unit == "chars" else latin / 2,
                          bool(latin) or ascii_lead, other))
    return lines


def split_lines(text: str, unit: str = "display") -> list[Line]:
    """The non-blank lines of ``text``, measured from the common margin in
    display columns, or (``unit="chars"``) in characters."""
    return _lines(*_scan(text), unit)


def _measure(lines: list[Line]) -> tuple[float | None, int]:
    """The width most wrapped lines reach, or None when the text is not wrapped.

    Candidates are the widths of lines that do not end a sentence (in a
    wrapped paragraph, all lines but the last) and are not bylines or date
    lines (short lines that cluster too); the one with the most such
    lines within [w - 1.5, w + 1] wins, provided few lines run past it
    (lines made mostly of one long Latin word such as a URL may). Ties go to
    the wider measure: bylines and datelines also cluster, lower down.
    """
    open_widths = sorted(round(line.width * 2) for line in lines
                         if not line.sentence_end and not line.closes_alone)
    if len(open_widths) < 2:
        return None, 0
    # Lines that run past a measure say it is not the measure, unless a
    # long Latin word (a URL) pushed them.
    over_widths = sorted(round(line.width * 2) for line in lines
                         if line.latin < line.width / 2)
    allowed_over = max(1, len(lines) // 20)
    lo_slack, hi_slack = round(_FULL_SLACK * 2), round(_OVER_SLACK * 2)
    counts = Counter(open_widths)
    # Only the most common widths are tried, so a long unwrapped file costs
    # a few hundred binary searches, not one per line.
    best: tuple[int, int] | None = None
    for candidate, _ in counts.most_common(200):
        over = len(over_widths) - bisect_right(over_widths, candidate + hi_slack)
        if over > allowed_over:
            continue
        near = bisect_right(open_widths, candidate + hi_slack) \
            - bisect_left(open_widths, candidate - lo_slack)
        if best is None or (near, candidate) > best:
            best = (near, candidate)
    # Two lines at one width, or a tenth of them, can be chance (two headings);
    # a paragraph of two or three lines is left to R3.
    if best is None or best[0] < 3 or best[0] < 0.1 * len(lines):
        return None, 0
    return best[1] / 2, best[0]


@dataclass
class Layout:
    """How a file is laid out: see the module docstring."""

    measure: float | None
    spacing: int
    indents: bool
    widest: float = 0.0
    widest_other: float = 0.0
    unit: str = "display"  # or "chars": wrapped by a tool that counts characters
    near: int = 0  # open lines at the measure

    @classmethod
    def of(cls, lines: list[Line], measure: float | None = None,
           unit: str = "display") -> "Layout":
        near = 0
        if measure is None:
            measure, near = _measure(lines)
        layout = cls(measure, 0, False, max(line.width for line in lines),
                     max(line.other for line in lines), unit, near)
        # Spacing: the usual gap after a line that evidently wraps on.
        wrap_gaps = Counter(
            a.gap for a, b in zip(lines, lines[1:]) if layout._looks_wrapped(a, b))
        # (On a tie the smaller: a blank line read as a paragraph break joins nothing.)
        layout.spacing = min(wrap_gaps, key=lambda gap: (-wrap_gaps[gap], gap)) if wrap_gaps else 0
        # Indentation: most lines after a sentence end are indented.
        after_end = [b for a, b in zip(lines, lines[1:]) if a.sentence_end]
        indented = sum(1 for b in after_end if b.indent > 0)
        layout.indents = indented > 0 and indented >= 0.5 * len(after_end)
        return layout

    def _width(self, text: str) -> float:
        return float(len(text)) if self.unit == "chars" else display_width(text)

    @classmethod
    def read(cls, text: str, column: float | None = None) -> tuple[list[Line], "Layout"]:
        """The lines of ``text`` and its layout.

        Most wrapping counts a Latin letter half a Chinese character, as a
        page shows it; some tools count characters. When the text has ASCII
        in it, lines are measured both ways and the reading that explains
        more of its open line ends as wraps wins (display width on a tie).
        """
        found, gaps = _scan(text)
        lines = _lines(found, gaps, "display")
        if not lines:
            return lines, cls(None, 0, False)
        layout = cls.of(lines, column)
        if column is not None or not any(latin or ascii_lead for *_, latin, ascii_lead in found):
            return lines, layout
        by_chars = _lines(found, gaps, "chars")
        char_layout = cls.of(by_chars, None, "chars")
        # (On a tie, the reading with more lines at its measure.)
        if char_layout.measure is not None and (char_layout._wraps(by_chars), char_layout.near) \
                > (layout._wraps(lines), layout.near):
            return by_chars, char_layout
        return lines, layout

    def _wraps(self, lines: list[Line]) -> int:
        """Open line ends this layout runs on, less lines past its measure."""
        wraps = sum(1 for a, b in zip(lines, lines[1:])
                    if not a.sentence_end and self.runs_on(a, b))
        if self.measure is not None:
            wraps -= sum(1 for line in lines if line.width > self.measure + _OVER_SLACK)
        return wraps

    def full(self, line: Line) -> bool:
        return self.measure is not None and line.width >= self.measure - _FULL_SLACK

    def _looks_wrapped(self, a: Line, b: Line) -> bool:
        """Whether the break after ``a`` is plainly a wrap, whatever the gap."""
        if a.sentence_end or b.indent > 0:
            return False
        if self.measure is not None:
            return self.full(a)
        return self._unmeasured_wrap(a, b)

    def _unmeasured_wrap(self, a: Line, b: Line) -> bool:
        """R3: a word cut at the end of a line as wide as any, before a line
        no wider (in display columns or in characters)."""
        # (Counted in the other unit only across a cut between Chinese
        # characters: a line that ends in a Latin word is no evidence.)
        widest = (a.width >= self.widest - _FULL_SLACK and a.width >= b.width - _FULL_SLACK) or (
            a.other >= self.widest_other - _FULL_SLACK and a.other >= b.other - _FULL_SLACK
            and bool(_HAN.match(a.text[-1])) and bool(_HAN.match(b.text[0])))
        # (A byline as wide as the text, with no blank line after it, is the
        # start of the text: 新华社记者 肇庆|市…; a date as wide as the text
        # is in it: …，自|2022年9月15日|起，…)
        alone = a.closes_alone and not (a.standalone == BYLINE and a.gap == 0) \
            and a.standalone != DATELINE
        return widest and _cut_word(a.text) and not alone and not b.opens_alone

    def runs_on(self, a: Line, b: Line) -> bool:
        """Whether ``b`` carries on the paragraph of ``a`` (rules R1-R9)."""
        if a.gap > self.spacing:
            return False                                     # R1
        if b.indent > 0:
            return False                                     # R2
        if self.measure is None:
            return self._unmeasured_wrap(a, b)               # R3
        if self.full(a):
            if not a.sentence_end:
                return True                                  # R4
            return (not self.indents and self.full(b)        # R5
                    and not b.opens_alone and a.width >= self.measure - 0.5)
        if a.sentence_end or a.closes_alone:
            return False                                     # R6
        word = _LEADING_WORD.match(b.text)
        # (½ for the space that may have stood before the word)
        if word and a.width + self._width(" " + word.group()) > self.measure:
            return True                                      # R7
        if (not ends_clause(a.text) and self.full(b) and not b.opens_alone
                and a.width >= self.measure - min(_FIRST_LINE_SHORT, 0.2 * self.measure)):
            return True                                      # R8
        return False                                         # R9


# --- Paragraphs -----------------------------------------------------------------


@dataclass
class Block:
    """A rebuilt paragraph, or a heading, byline, caption or unit header."""

    text: str
    kind: str  # body | heading | byline | caption | unit | dateline | salutation
    page: int | None = None  # where a paged format (PDF) has it


def _kind(lines: list[Line], text: str, layout: Layout) -> str:
    special = standalone_kind(text)
    if special is not None and (len(lines) == 1 or special == CAPTION
                                or len(text) <= _STANDALONE_MAX):
        return special
    if _SENTENCE_MARK.search(text) or ends_clause(text) \
            or display_width(text) > _HEADING_MAX_WIDTH:
        return BODY
    # An indented line that fills the measure is the start of a paragraph
    # whose next line is elsewhere (the next column or page of a PDF).
    first = lines[0]
    if len(lines) == 1 and 0 < first.indent <= _INDENT_MAX and layout.full(first):
        return BODY
    return HEADING


def reflow_paragraphs(text: str, column: float | None = None) -> list[Block]:
    """Rebuild paragraphs from hard-wrapped lines (rules in the module docstring).

    A caller that knows the measure (a PDF column, in ems) passes it as
    ``column``.

    >>> text = "第十四次代表大\\n\\n会以来，工作取\\n\\n得成效。\\n\\n下一段。"
    >>> [b.text for b in reflow_paragraphs(text)]
    ['第十四次代表大会以来，工作取得成效。', '下一段。']
    """
    lines, layout = Layout.read(text, column)
    if not lines:
        return []
    blocks: list[Block] = []
    current: list[Line] = [lines[0]]
    for a, b in zip(lines, lines[1:]):
        if layout.runs_on(a, b):
            current.append(b)
            continue
        joined = join_lines([line.text for line in current])
        blocks.append(Block(joined, _kind(current, joined, layout)))
        current = [b]
    joined = join_lines([line.text for line in current])
    blocks.append(Block(joined, _kind(current, joined, layout)))
    return blocks
