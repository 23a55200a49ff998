"""What every reader's articles get once read: a title where the report has none.

The rule looks at a whole report, never at one format, so it runs once in
:func:`indexer.readers.read_report` after any reader.

- **A title from the file name.** Many reports keep their headline only in
  the file name (``澄城一工商执法车撞上摩托车2人死亡1人重伤.txt``). An article
  with no title line takes the name, without folder or extension, as its
  title and title passage, so the page, ``show``, the JSON and ``--in title``
  all name it. A name without a Chinese character (``20230515.md``,
  ``000_37542822596f49c6.txt``) names no story and is not used.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from indexer.document import TITLE, Article, Passage

# A name that can title a report holds Chinese: "TRIAL_800", "scan0001" or
# "report-v2" name a file, not a story.
_NAMING = re.compile(r"[\u3400-\u9fff]")


def title_from_name(name: str) -> str:
    """The title a file's name gives a report that has none, or ``""``.

    >>> title_from_name("cec17/澄城一工商执法车撞上摩托车2人死亡1人重伤.txt")
    '澄城一工商执法车撞上摩托车2人死亡1人重伤'
    >>> title_from_name("20230515.md"), title_from_name("000_37542822596f49c6.txt")
    ('', '')
    """
    stem = PurePosixPath(name.replace("\\", "/")).stem.strip()
    return stem if _NAMING.search(stem) and not stem.startswith(".") else ""


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

