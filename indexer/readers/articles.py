"""What every reader's articles get once read: a title where the report has
none, and digest lines marked as pointers to their stories.

Both rules look at a whole report, never at one format, so they run once in
:func:`indexer.readers.read_report` after any reader.

- **A title from the file name.** Many reports keep their headline only in
  the file name (``澄城一工商执法车撞上摩托车2人死亡1人重伤.txt``). An article
  with no title line takes the name, without folder or extension, as its
  title and title passage, so the page, ``show``, the JSON and ``--in title``
  all name it. A name without a Chinese character (``20230515.md``,
  ``000_37542822596f49c6.txt``) names no story and is not used.
- **Digest lines.** A daily programme or a newsletter opens with a digest
  whose lines repeat the headlines of the stories below
  (``4.王岐山出席巴西新任总统就职仪式；``). Such a line is a short body passage
  that repeats the query's words, so BM25 ranked it above the story itself
  (issue 18). An article is a digest when at least :data:`DIGEST_MIN_LINES`
  of its body passages, and at least a third of them, repeat (or are part of)
  other articles' titles of the same report; its body passages become
  :data:`~indexer.document.DIGEST` passages, which rank as leads do. Nothing
  depends on what the digest is called.
"""

from __future__ import annotations

import re
import unicodedata

from indexer import names
from indexer.document import BODY, DIGEST, TITLE, Article, Passage

# A name that can title a report holds Chinese: "TRIAL_800", "scan0001" or
# "report-v2" name a file, not a story.
_NAMING = re.compile(r"[\u3400-\u9fff]")

# A digest repeats several headlines: two lines that equal other titles can
# be a story quoting its neighbours' headlines, three in a row rarely are
# (the news folder's digests hold 8-20 lines).
DIGEST_MIN_LINES = 3
# A digest also lists the items of round-up stories (国内联播快讯), which
# have no titles of their own: 13 of 27 lines of 20230103.md repeat a title.
DIGEST_SHARE = 3
# A line must keep this many letters to stand for a title: "4." or "本期节目
# 主要内容" alone names no story.
_MIN_KEY = 6
# Where a title breaks into parts a digest line may repeat alone.
_PUNCTUATION = re.compile(r"[：:—，,；;《》“”\"!！?？|｜]+")
_MAX_PARTS = 8
# A digest line's numbering: "4.", "4、", "（4）", "①".
_NUMBERING = re.compile(r"^\s*(?:[（(]?\d{1,3}[)）.、．:：]|[\u2460-\u2473])\s*")
# What str.isalnum() refuses: re's \w is isalnum() or "_", for every code
# point. One C loop instead of a generator: key() of every body passage was
# 0.75 s of the 1.37 s of reading the 2022 news.
_NOT_ALNUM = re.compile(r"[\W_]+")


def key(text: str) -> str:
    """The letters and digits of ``text``, NFKC-folded and lower-cased: a
    title and a line that repeats it have the same key.

    >>> key("4.王岐山出席巴西新任总统就职仪式；") == key("王岐山出席巴西新任总统就职仪式")
    True
    """
    text = _NUMBERING.sub("", unicodedata.normalize("NFKC", text))
    return _NOT_ALNUM.sub("", text.lower())


def title_from_name(name: str) -> str:
    """The title a file's name gives a report that has none, or ``""``.

    >>> title_from_name("cec17/澄城一工商执法车撞上摩托车2人死亡1人重伤.txt")
    '澄城一工商执法车撞上摩托车2人死亡1人重伤'
    >>> title_from_name("20230515.md"), title_from_name("000_37542822596f49c6.txt")
    ('', '')
    """
    stem = names.title_stem(name)
    return stem if _NAMING.search(stem) else ""


def title_untitled(articles: list[Article], name: str) -> None:
    """Give every article without a title the file name's title (in place)."""
    title = title_from_name(name)
    if not title:
        return
    for article in articles:
        if not article.title.strip():
            article.title = title
            section = article.passages[0].section if article.passages else ""
            article.passages.insert(0, Passage(title, TITLE, section))


def _spans(title: str) -> set[str]:
    """The keys a digest line repeating ``title`` can have: the whole title
    and every run of its parts between punctuation (a digest may break
    ``新华社长篇通讯：鲲鹏展翅九万里——…`` after the colon), the first
    :data:`_MAX_PARTS` parts at most.

    >>> sorted(_spans("新华社长篇通讯：鲲鹏展翅九万里——述评"))
    ['新华社长篇通讯', '新华社长篇通讯鲲鹏展翅九万里', '新华社长篇通讯鲲鹏展翅九万里述评', '鲲鹏展翅九万里', '鲲鹏展翅九万里述评']
    """
    parts = [key(p) for p in _PUNCTUATION.split(title)][:_MAX_PARTS]
    parts = [p for p in parts if p]
    found = {"".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)}
    return {k for k in found | {key(title)} if len(k) >= _MIN_KEY}


def mark_digests(articles: list[Article]) -> None:
    """Mark the body passages of each digest article as :data:`DIGEST` (in place).

    A lookup per line in a table of the report's titles and their parts: a
    report of 50,000 articles costs a set, never a scan of every title per line.
    """
    if len(articles) <= DIGEST_MIN_LINES:
        return
    owners: dict[str, set[int]] = {}
    for n, article in enumerate(articles):
        for span in _spans(article.title):
            owners.setdefault(span, set()).add(n)
    for n, article in enumerate(articles):
        body = [p for p in article.passages if p.kind == BODY]
        repeats = sum(1 for p in body if owners.get(key(p.text), {n}) - {n})
        if repeats >= DIGEST_MIN_LINES and repeats * DIGEST_SHARE >= len(body):
            for passage in body:
                passage.kind = DIGEST
