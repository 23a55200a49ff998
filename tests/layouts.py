"""Real paragraphs rewrapped as a page or a copy-paste lays them out.

Shared by the reflow property test (``tests/test_reflow_property.py``) and
``benchmarks/reflow_recall.py``. A :class:`Layout` says how a file is wrapped;
:func:`build` wraps paragraphs by it and records what the reader must keep:
every string of 2-6 Chinese characters that a line break cuts, and the
paragraph boundaries a blank line marks.

The news transcripts are read from ``../shared/data/cctv_news`` beside the
repository (research licence: never copied into it); :func:`news_dir` is
None when they are absent.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_37542822596f49c6.txt"

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CLOSING = set("，。、；：！？）」』”’》")
_LINK_ONLY = re.compile(r"^\s*\[[^\]]*\]\([^)]*\)\s*$")
_MARKUP = re.compile(r"\*\*|__|!\[[^\]]*\]\([^)]*\)|\[([^\]]*)\]\([^)]*\)")

INDENTS = ["", "\u3000\u3000", "  ", "    "]
BYLINES = ["记者 张三", "本报记者 李四 通讯员 王五", "（新华社记者 赵六）", "文/陈七 图/周八",
           "■全媒体记者彭新启 通讯员陈善铭", "本报讯", "新华社北京5月10日电"]
DATELINES = ["2023年5月10日", "2023-05-10 10:30", "发布时间：2023年05月10日", "2021年11月20日 星期六"]
CAPTIONS = ["■2021年11月20日，肇庆高新区新业态行业工会联合会成立。 单位供图",
            "（新华社记者 张三 摄）", "图为活动现场。 单位供图"]
# Paragraphs of news that begin like a byline but are text, as news text
# begins: 记者 then a verb, never 记者 then names (记者蔡奇、王毅 alone on a
# line of a two-line file is a byline, whatever follows).
OPENINGS = ["记者了解到，", "记者在现场看到，", "记者从国家卫健委获悉，", "新华社北京5月10日电（记者 张三）",
            "本报讯（记者 张三 通讯员 李四）", "本报讯 ", "新华社记者近日获悉，"]
LATIN = ["https://www.example.com/news/2023/05/10/a1b2c3d4.shtml", "www.gov.cn", "CGTN", "Hello World",
         "5G", "2023", "12.5%", "GDP", "iPhone 15 Pro", "COVID-19", "Made in China 2025", "10:30"]


def width_of(ch: str) -> float:
    return 1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.5


def _is_latin(ch: str) -> bool:
    return ch.isascii() and not ch.isspace()


# --- paragraphs -----------------------------------------------------------------


def news_dir() -> Path | None:
    """The news folder beside the repository (``../shared/data/cctv_news``)."""
    folder = ROOT.parent / "shared" / "data" / "cctv_news"
    return folder if folder.is_dir() else None


def news_files() -> list[Path]:
    folder = news_dir()
    return sorted(p for p in folder.glob("*.md") if p.stem.isdigit()) if folder else []


@lru_cache(maxsize=64)
def news_paragraphs(path: Path) -> tuple[str, ...]:
    """The paragraphs of a transcript's stories (under ``## 详细新闻``), markup removed."""
    text = path.read_text(encoding="utf-8")
    _, _, stories = text.partition("## 详细新闻")
    paragraphs = []
    for line in stories.split("\n"):
        if line.startswith(("#", "<!--")) or _LINK_ONLY.match(line):
            continue
        line = " ".join(_MARKUP.sub(r"\1", line).split())
        if HAN.search(line):
            paragraphs.append(line)
    return tuple(paragraphs)


@lru_cache(maxsize=1)
def seed_paragraphs() -> tuple[str, ...]:
    """The bundled report's paragraphs of text, as the reader rebuilds them.

    (Its headings are left to the tests of structure: a file of nothing but
    two headings, parted by a blank line, reads the same as one heading
    wrapped in text with a blank line after every line.)"""
    from indexer.document import BODY
    from indexer.readers import read_report

    articles = read_report(SEED.read_bytes(), SEED.name)
    return tuple(p.text for a in articles for p in a.passages if p.kind == BODY)


# --- wrapping -------------------------------------------------------------------


@dataclass
class Layout:
    width: int                 # display columns
    double: bool = False       # a blank line after every line
    separator: int = 1         # blank lines between paragraphs (in a double-spaced file, 1 or 2)
    indent: str = ""           # before each paragraph's first line, counted in the width
    crlf: bool = False
    trailing: bool = False     # white space left at line ends
    word_wrap: bool = True     # Latin words move whole to the next line (else cut anywhere)
    kinsoku: str = ""          # "" | "hang" (closing mark past the measure) | "push" (character pushed down)
    by_chars: bool = False     # wrapped by a tool that counts characters, not columns


def wrap(paragraph: str, width: float, first_indent: float = 0.0,
         word_wrap: bool = True, kinsoku: str = "", by_chars: bool = False) -> list[tuple[int, int]]:
    """Cut ``paragraph`` into lines of at most ``width`` columns: (start, end) offsets.

    White space at a line start is dropped, as any wrapping does."""
    lines: list[tuple[int, int]] = []
    i, n, first = 0, len(paragraph), True
    while i < n:
        while i < n and paragraph[i].isspace():
            i += 1
        if i >= n:
            break
        avail = width - (first_indent if first else 0.0)
        start, used = i, 0.0
        while i < n:
            ch = paragraph[i]
            if word_wrap and _is_latin(ch) and (i == 0 or not _is_latin(paragraph[i - 1])):
                j = i
                while j < n and _is_latin(paragraph[j]):
                    j += 1
                word = (j - i) * (1.0 if by_chars else 0.5)
                if used + word <= avail:
                    used, i = used + word, j
                    continue
                if word <= avail and i > start:
                    break  # the word goes whole to the next line
            w = 1.0 if by_chars else width_of(ch)
            if used + w <= avail or i == start:
                used, i = used + w, i + 1
                continue
            if ch in _CLOSING and kinsoku == "hang":
                i += 1
            elif ch in _CLOSING and kinsoku == "push" and i - start > 2 \
                    and not paragraph[i - 1].isspace():
                i -= 1
            break
        lines.append((start, i))
        first = False
    return lines


def crossings(paragraph: str, lines: list[tuple[int, int]]) -> list[str]:
    """Every string of 2-6 Chinese characters that one of the line breaks cuts."""
    found = []
    for (_, end), (start, _) in zip(lines, lines[1:]):
        if start != end or not (HAN.match(paragraph[end - 1]) and HAN.match(paragraph[end])):
            continue  # white space stood at the break, or no Chinese on one side
        left = end - 1
        while left > end - 5 and left > 0 and HAN.match(paragraph[left - 1]):
            left -= 1
        right = end + 1
        while right < end + 5 and right < len(paragraph) and HAN.match(paragraph[right]):
            right += 1
        for a in range(left, end):
            for b in range(end + 1, right + 1):
                if 2 <= b - a <= 6:
                    found.append(paragraph[a:b])
    return found


@dataclass
class Built:
    text: str
    layout: Layout
    crossing: list[str] = field(default_factory=list)
    # (last line of one paragraph, first line of the next) where a blank line parts them
    boundaries: list[tuple[str, str]] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)


def build(paragraphs: list[str], layout: Layout, standalone: set[int] = frozenset(),
          rng: random.Random | None = None) -> Built:
    """The file ``paragraphs`` make in ``layout``; those in ``standalone``
    (bylines, dates, captions) are not indented."""
    rng = rng or random.Random(0)
    out: list[str] = []
    built = Built("", layout, paragraphs=list(paragraphs))
    indent_width = float(len(layout.indent)) if layout.by_chars \
        else sum(width_of(c) for c in layout.indent)
    previous_last = None
    for number, paragraph in enumerate(paragraphs):
        indent = "" if number in standalone else layout.indent
        lines = wrap(paragraph, layout.width, indent_width if indent else 0.0,
                     layout.word_wrap, layout.kinsoku, layout.by_chars)
        built.crossing += crossings(paragraph, lines)
        texts = [paragraph[s:e].rstrip() for s, e in lines]
        if out:
            blanks = layout.separator if not layout.double else layout.separator - 1
            out += [""] * blanks
            if layout.separator and not layout.double and previous_last is not None:
                built.boundaries.append((previous_last, texts[0]))
        for k, line in enumerate(texts):
            if k == 0:
                line = indent + line
            if layout.trailing and rng.random() < 0.5:
                line += rng.choice([" ", "  ", "\u3000", "\t"])
            out.append(line)
            if layout.double:
                out.append("")
        previous_last = texts[-1]
    newline = "\r\n" if layout.crlf else "\n"
    built.text = newline.join(out) + newline
    return built


def decorate(paragraphs: list[str], rng: random.Random, extras: bool = True,
             latin: bool = True) -> tuple[list[str], set[int]]:
    """News-like furniture among the paragraphs: bylines, date lines and
    captions between them, bylines' words at their starts, Latin words,
    numbers and URLs inside them. Returns the paragraphs and which are furniture."""
    result: list[str] = []
    furniture: set[int] = set()
    for paragraph in paragraphs:
        if extras and rng.random() < 0.25:
            furniture.add(len(result))
            result.append(rng.choice(BYLINES + DATELINES + CAPTIONS))
        if rng.random() < 0.2:
            paragraph = rng.choice(OPENINGS) + paragraph
        if latin and rng.random() < 0.4:
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(paragraph) + 1)
                token = rng.choice(LATIN)
                space = rng.choice(["", " "])
                paragraph = paragraph[:at] + space + token + space + paragraph[at:]
        result.append(" ".join(paragraph.split()))
    return result, furniture


def random_layout(rng: random.Random, width: int | None = None) -> Layout:
    double = rng.random() < 0.5
    return Layout(
        width=width or rng.randint(8, 40),
        double=double,
        separator=rng.choice([1, 2]) if double else rng.choice([0, 1, 1]),
        indent=rng.choice(INDENTS),
        crlf=rng.random() < 0.3,
        trailing=rng.random() < 0.3,
        word_wrap=rng.random() < 0.6,
        kinsoku=rng.choice(["", "", "hang", "push"]),
        by_chars=rng.random() < 0.15,
    )


def passage_grams(texts: list[str]) -> set[str]:
    """Every string of 2-6 Chinese characters inside the passages."""
    grams: set[str] = set()
    for text in texts:
        for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}", text):
            for n in range(2, 7):
                grams.update(run[i:i + n] for i in range(len(run) - n + 1))
    return grams


def joined_paragraphs(built: Built, texts: list[str]) -> list[str]:
    """Passages that run together paragraphs a blank line parts, in a file
    with no blank lines between its lines: those not inside one paragraph
    (white space aside, which the joining of wrapped Latin words changes)."""
    if not built.boundaries:
        return []
    whole = "\x00".join("".join(p.split()) for p in built.paragraphs)
    return [t for t in texts if "".join(t.split()) not in whole]
