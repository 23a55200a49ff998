"""HTML pages saved from a website: the article text, not the page around it.

Scripts, styles, navigation, the page header and footer and side boxes are
dropped; what is left of ``<main>`` (or ``<body>``) is read block by block.
``<h1>``-``<h3>`` are titles and headings, grouped into articles as in a
Word document (each ``<article>`` element is an article of its own too), and
``<title>`` names the page when no heading opens it. The charset the page
declares is honoured; a page that declares none, or a wrong one, is decoded
like a text file.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PageElement, PreformattedString

from indexer.document import BODY, CAPTION, Article
from indexer.errors import UnsupportedFile
from indexer.readers.encoding import check_text_size, decode_text, text_codec
from indexer.readers.limits import MAX_HTML_ELEMENTS
from indexer.readers.outline import Part, group_articles

# Never article text, wherever they are.
# (Not <form>: many older sites wrap the whole page in one.)
_DROP = {"head", "title", "script", "style", "noscript", "template", "nav", "aside", "footer",
         "iframe", "object", "embed", "svg", "canvas", "button", "select", "textarea", "dialog"}
_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu"}
_INVISIBLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3}
# Elements that end the paragraph before them and start a new one.
_BLOCKS = {"p", "div", "section", "article", "main", "header", "li", "ul", "ol", "dl", "dt",
           "dd", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "blockquote", "pre",
           "figure", "figcaption", "caption", "address", "hr", "br", "center",
           "h1", "h2", "h3", "h4", "h5", "h6"}
_CAPTIONS = {"figcaption", "caption"}
_ARTICLES = {"article", "main"}  # a <header> inside one holds its title

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.:-]+)""")
# What browsers do with these labels (WHATWG Encoding Standard): GB2312 and
# GBK pages are decoded as GB18030, their superset, so characters outside
# GB2312 that such pages use anyway come out right.
_CHARSET_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
    "csgb2312": "gb18030", "chinese": "gb18030", "euc-cn": "gb18030",
    "big5": "big5hkscs", "x-x-big5": "big5hkscs",
    "iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252",
    # A page cannot declare UTF-16 in its own ASCII-compatible bytes.
    "utf-16": "utf-8", "utf-16le": "utf-8", "utf-16be": "utf-8",
}
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
# A line break in the source between two Chinese characters is not a space.
_WRAP_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])[ \t\r]*\n\s*(?=[{_CJK}])")


def declared_charset(data: bytes) -> str | None:
    """The Python codec for the charset the page declares in its first 4 KB."""
    head = data[:4096]
    match = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    if not match:
        return None
    label = match.group(1).decode("ascii").lower()
    # Only a text encoding: unicode_escape or utf-7 would make lone
    # surrogates of a few ASCII bytes, base64 or zlib are not text at all.
    return text_codec(_CHARSET_ALIASES.get(label, label))


def decode_html(data: bytes, name: str) -> str:
    """The page's text: a byte-order mark first, then the declared charset,
    then the same guess as for text files (which also refuses binary files)."""
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode_text(data, name, lines=False)
    charset = declared_charset(data)
    if charset:
        try:
            return check_text_size(data.decode(charset), name, lines=False)
        except UnicodeError as error:
            if not isinstance(error, UnicodeDecodeError):
                return decode_text(data, name, lines=False)
            # A page cut off inside its last character is still in that charset;
            # anything else means the declaration is wrong: guess as for a text file.
            if error.end == len(data) and error.end - error.start < 4:
                return check_text_size(data[:error.start].decode(charset), name, lines=False)
    return decode_text(data, name, lines=False)


def _clean(text: str) -> str:
    return " ".join(_WRAP_BETWEEN_CJK.sub("", text).split())


def _dropped(tag: Tag, in_article: bool) -> bool:
    if tag.name in _DROP or tag.has_attr("hidden") or _INVISIBLE.search(str(tag.get("style") or "")):
        return True
    if tag.get("role", "") in _DROP_ROLES:
        return True
    # A page header is navigation; an <article>'s own <header> holds its title.
    # (Told by the walker: looking up the parents of each of 5,000 nested
    # <header> took 12 s.)
    return tag.name == "header" and not in_article


class _Walker:
    """Collects the blocks of a page in order, one list of parts per article."""

    def __init__(self) -> None:
        self.groups: list[list[Part]] = [[]]
        self.words: list[str] = []
        self.kind = BODY
        self.in_article = 0  # how many <article> or <main> hold what is being read

    def flush(self) -> None:
        text = _clean("".join(self.words))
        if text:
            self.groups[-1].append(Part(text, kind=self.kind))
        self.words.clear()

    def walk(self, root: Tag) -> None:
        """Read the content of ``root``, depth first, without recursion: old
        FrontPage pages nest hundreds of unclosed ``<font>`` (500 of them
        raised RecursionError), and a page may nest up to its element limit."""
        # Each entry: the children still to read, and what to do after them.
        stack: list[tuple[Iterator[PageElement], Callable[[], None] | None]] = [
            (iter(root.children), None)]
        self.in_article += root.name in _ARTICLES
        while stack:
            children, after = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                if after is not None:
                    after()
            elif isinstance(child, PreformattedString):
                continue  # comments, <!DOCTYPE>, CDATA: not page text
            elif isinstance(child, NavigableString):
                self.words.append(str(child))
            elif isinstance(child, Tag) and not _dropped(child, self.in_article > 0):
                entered = self.enter(child)
                if entered is not None:
                    stack.append((iter(child.children), entered))

    def enter(self, tag: Tag) -> Callable[[], None] | None:
        """Start reading ``tag``: the step to take after its children, or
        None when they are not to be read (a heading is read whole)."""
        if tag.name not in _BLOCKS:
            return self.nothing
        self.flush()
        if tag.name in _HEADINGS:
            text = _clean(tag.get_text())
            if text:
                self.groups[-1].append(Part(text, _HEADINGS[tag.name]))
            return None
        if tag.name == "article":
            self.groups.append([])
        outer_kind = self.kind
        if tag.name in _CAPTIONS:
            self.kind = CAPTION
        opens = tag.name in _ARTICLES
        self.in_article += opens

        def leave() -> None:
            self.flush()
            self.kind = outer_kind
            self.in_article -= opens
            if tag.name == "article":
                self.groups.append([])

        return leave

    def nothing(self) -> None:
        pass


# An opening tag: what becomes an element of the parsed tree.
_START_TAG = re.compile(r"<[a-zA-Z]")


def read(data: bytes, name: str) -> list[Article]:
    text = decode_html(data, name)
    # The parsed tree costs ~8 KB an element (1 M <p> took 8.4 GB): count
    # the tags before building it.
    elements = sum(1 for _ in zip(_START_TAG.finditer(text), range(MAX_HTML_ELEMENTS + 1)))
    if elements > MAX_HTML_ELEMENTS:
        raise UnsupportedFile(
            name, f"more than {MAX_HTML_ELEMENTS:,} HTML elements (paragraphs, tags): "
                  "not one web page", code="too_many_elements")
    soup = BeautifulSoup(text, "html.parser")
    title_tag = soup.find("title")
    page_title = _clean(title_tag.get_text()) if title_tag else ""
    root = soup.find("main") or soup.find("body") or soup
    walker = _Walker()
    walker.walk(root)
    walker.flush()
    groups = [g for g in walker.groups if g]
    # The page title names the opening text only when no heading does.
    if page_title and groups and groups[0][0].level is None:
        groups[0].insert(0, Part(page_title, 0))
    return [article for group in groups for article in group_articles(group)]
