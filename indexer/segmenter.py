"""Word segmenters: one instance per set of dictionaries, never jieba's global one.

jieba is the definition of how Chinese text is cut here: its ``dict.txt``, its
user-dictionary format (``word [freq] [tag]`` per line) and its arithmetic.
jieba-rs (``rjieba``) cuts the same words 11-12 times faster run by run, and
22-23 times faster given a file's runs in one call as the analyser does
(1,399,504 runs of Chinese characters of the news folder, HMM off as zhsearch
always cuts), so it is used whenever it can be made to hold exactly what jieba
would hold:

* every word of jieba's dictionary with jieba's frequency: rjieba's built-in
  dictionary is jieba's ``dict.txt`` (checked in the tests and, over the whole
  news folder, by ``benchmarks/segment_identity.py``);
* every user word with the frequency jieba gives it, computed by jieba itself
  (``suggest_freq`` for a line without one: jieba gives such a word 1 where
  rjieba would suggest 2);
* jieba's total frequency. jieba adds a re-weighted word's new frequency to
  its total without taking the old one off (and counts ``dict.txt``'s one
  duplicate twice); rjieba replaces it. The total weighs every cut, so the
  difference is carried by one extra entry, :data:`TOTAL_CARRIER`, a "word"
  no text handed to a segmenter can contain.

What rjieba cannot hold (a word of jieba's dictionary set to frequency 0, which
jieba then never cuts out; frequencies beyond 2**53, where the two would round
differently), and any machine without ``rjieba``, gets jieba itself: a private
``jieba.Tokenizer``. The backend is part of :attr:`Segmenter.fingerprint`, so
an index records which one cut it.

Those jieba numbers (a :class:`Recipe`) take jieba's 0.5 s start-up to compute,
so a recipe is kept as JSON in a folder the caller names (the index folder,
``segmenter.json``), keyed by everything it depends on; a cold search then
pays only rjieba's 0.1 s. It is derived data: :func:`verify_recipe` (run by
``check``) recomputes it, and its digest is in the fingerprint, so an index
cut with numbers found wrong is rebuilt. Segmenters are cached in the process
by the same key, so two stores with the same dictionaries share one and two
with different ones never meet.

>>> seg = segmenter_for([BUNDLED_DICTIONARY])
>>> seg.cut("推进爱心托管服务")
['推进', '爱心托管', '服务']
>>> segmenter_for([BUNDLED_DICTIONARY]) is seg
True
"""

from __future__ import annotations

import array
import bisect
import functools
import hashlib
import importlib.machinery
import importlib.util
import io
import json
import logging
import os
import re
import sys
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from pathlib import Path

from indexer.corpus import write_atomically
from indexer.errors import ZhsearchError

BUNDLED_DICTIONARY = Path(__file__).with_name("data") / "userdict.txt"

# jieba's hidden Markov model guesses unknown words (names) at ~15 % of the
# speed; substring matching already finds names cut into single characters,
# and dictionary-only cutting segments a word the same way in every context.
USE_HMM = False

# The characters jieba cuts with its dictionary (``jieba.re_han_default``,
# less the Latin part, which the analyser handles itself). Other ideographs
# (extension A, the newest unified ones, compatibility ideographs) jieba
# returns one by one; rjieba would look them up, so they never reach it.
JIEBA_HAN = "\u4e00-\u9fd5"

# jieba's user-dictionary line (``jieba.re_userdict``; the test suite checks
# they agree), so that parsing a dictionary needs no 0.13 s ``import jieba``.
USER_LINE = re.compile("^(.+?)( [0-9]+)?( [a-z]+)?$", re.U)

# Carries the difference between jieba's total frequency and rjieba's. Text
# reaches a segmenter only as runs of JIEBA_HAN characters, and no user word
# can be a line break, so it is never cut out.
TOTAL_CARRIER = "\n"

# Past this, a frequency or a total is no longer exact in a float, and jieba
# (Python floats of ints) and rjieba (usize cast to f64) might differ.
MAX_EXACT = 2**53

# Between two runs handed to a segmenter at once (:meth:`Segmenter.cut_runs`).
RUN_BREAK = "\n"

# A user dictionary larger than this is refused: it is read whole, and every
# word goes into memory once per segmenter. jieba keeps every prefix of every
# word: 4 MB of 64-character words took 227 MB in jieba alone (jieba's own
# dict.txt, 349,046 words, is 5 MB).
MAX_DICTIONARY_BYTES = 4 * 1024 * 1024
MAX_DICTIONARY_LINES = 500_000
# The longest user word, as Lucene's maxTokenLength (255) bounds a token.
# jieba stores every prefix of a word, so a word costs the square of its
# length: one of 60,000 characters took 3.7 GB, a 400 KB line was killed at
# 24 GB. jieba's longest word has 16 characters.
MAX_WORD_CHARS = 64
# A frequency of 5,000 digits made int() raise ValueError; jieba's largest is
# 883,634, and past 2**53 no float holds one exactly.
MAX_FREQUENCY_DIGITS = 15

RECIPE_FILE = "segmenter.json"
RECIPE_FORMAT = 1
# An edited dictionary makes a new segmenter; keep a few (an rjieba one holds
# 25-34 MB, a jieba one 75 MB).
_CACHED_SEGMENTERS = 4


class DictionaryError(ZhsearchError, ValueError):
    """A user dictionary that cannot be read (too large, not UTF-8)."""

    default_code = "bad_dictionary"
    # The corpus's file is wrong, not the request: no search answers until it is fixed.
    status = 503


@dataclass(frozen=True)
class Dictionary:
    """One user dictionary's bytes, with where they came from."""

    name: str
    data: bytes

    @functools.cached_property
    def digest(self) -> bytes:
        return hashlib.blake2b(self.data, digest_size=16).digest()

    @classmethod
    def read(cls, path: Path) -> Dictionary:
        """The file's bytes; FileNotFoundError when there is none, DictionaryError
        when it cannot be a dictionary."""
        try:
            with open(path, "rb") as file:
                # read(n) allocates n bytes first: ask for what is there.
                size = os.fstat(file.fileno()).st_size
                data = file.read(min(size, MAX_DICTIONARY_BYTES) + 1)
        except FileNotFoundError:
            raise
        except OSError as error:
            raise DictionaryError(f"cannot read {path.name}: {error.strerror}") from None
        if len(data) > MAX_DICTIONARY_BYTES:
            raise DictionaryError(
                f"{path.name} is larger than {MAX_DICTIONARY_BYTES // 2**20} MB")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise DictionaryError(f"{path.name} is not UTF-8 text (byte {error.start})") from None
        lines = data.count(b"\n") + 1
        if lines > MAX_DICTIONARY_LINES:
            raise DictionaryError(f"{path.name} has {lines:,} lines; at most "
                                  f"{MAX_DICTIONARY_LINES:,} are read")
        dictionary = cls(path.name, data)
        for _ in dictionary.words():  # every line checked before jieba reads one
            pass
        return dictionary

    def words(self) -> Iterable[tuple[str, int | None]]:
        r"""``(word, frequency or None)`` per line, as ``jieba.load_userdict`` reads it;
        DictionaryError for a word or a frequency past the bounds.

        >>> list(Dictionary("userdict.dic", "暖企行动 100 n\n劳动模范\n".encode()).words())
        [('暖企行动', 100), ('劳动模范', None)]
        >>> try:
        ...     list(Dictionary("userdict.dic", ("劳" * 65).encode()).words())
        ... except DictionaryError as error:
        ...     print(error.code, error)
        bad_dictionary userdict.dic, line 1: a word of 65 characters; at most 64
        """
        for number, raw in enumerate(io.BytesIO(self.data), 1):
            line = raw.strip()
            try:
                text = line.decode("utf-8").lstrip("\ufeff")
            except UnicodeDecodeError:
                raise DictionaryError(f"{self.name} is not UTF-8 text") from None
            if not text:
                continue
            match = USER_LINE.match(text)
            assert match is not None  # any non-empty line matches
            word, freq, _tag = match.groups()
            if len(word) > MAX_WORD_CHARS:
                raise DictionaryError(f"{self.name}, line {number}: a word of {len(word):,} "
                                      f"characters; at most {MAX_WORD_CHARS}")
            if freq is not None and len(freq) - 1 > MAX_FREQUENCY_DIGITS:
                raise DictionaryError(f"{self.name}, line {number}: a frequency of "
                                      f"{len(freq) - 1:,} digits; at most {MAX_FREQUENCY_DIGITS}")
            yield word, int(freq) if freq is not None else None


@dataclass
class Recipe:
    """What rjieba must be told to cut exactly as jieba with these dictionaries.

    ``words``: each user word with the frequency jieba ends up giving it, in
    first-seen order; ``total_offset``: jieba's total less rjieba's after
    those words; ``backend``: ``"rjieba"``, or ``"jieba"`` when rjieba
    cannot hold these numbers exactly.
    """

    key: str
    backend: str
    words: list[tuple[str, int]] = field(default_factory=list)
    total_offset: int = 0

    def digest(self) -> str:
        data = json.dumps([self.backend, self.words, self.total_offset], ensure_ascii=False)
        return hashlib.blake2b(data.encode(), digest_size=8).hexdigest()

    def to_json(self) -> dict:
        return {"format": RECIPE_FORMAT, "key": self.key, "backend": self.backend,
                "words": self.words, "total_offset": self.total_offset}

    @classmethod
    def from_json(cls, data: dict, key: str) -> Recipe | None:
        """The recipe in ``data`` if it is well formed and made for ``key``."""
        try:
            if data.get("format") != RECIPE_FORMAT or data.get("key") != key:
                return None
            backend = data["backend"]
            words = [(str(w), int(f)) for w, f in data["words"]]
            offset = int(data["total_offset"])
        except (AttributeError, KeyError, TypeError, ValueError):
            return None
        if backend not in ("rjieba", "jieba") or not 0 <= offset < MAX_EXACT or \
                any(not 0 < f < MAX_EXACT or w == TOTAL_CARRIER for w, f in words):
            return None
        return cls(key, backend, words, offset)


class Segmenter:
    """Cuts runs of Chinese characters into words; one per set of dictionaries."""

    backend = ""

    def __init__(self, key: str, dictionaries: Sequence[Dictionary],
                 recipe: Recipe | None = None):
        self.key = key
        self.dictionaries = tuple(dictionaries)
        self.recipe = recipe  # what rjieba was told; None when it was not asked

    @property
    def fingerprint(self) -> str:
        """Everything that decides the words: dictionaries, backend and its version, HMM."""
        # And the numbers rjieba was given: an index cut with numbers that
        # ``check`` later finds wrong is rebuilt.
        recipe = f";recipe={self.recipe.digest()}" if self.recipe else ""
        return f"{self.backend}-{_version(self.backend)};hmm={USE_HMM};dict={self.key}{recipe}"

    def cut(self, run: str) -> list[str]:
        raise NotImplementedError

    def cut_runs(self, runs: Sequence[str]) -> list[str]:
        """The words of every run, with :data:`RUN_BREAK` between two runs.

        One call for a passage instead of one per run: a quarter faster
        analysis of news text. A run never holds a line break, and a line
        break outside the characters jieba segments is a token of its own in
        jieba and in rjieba, so each run is cut exactly as on its own.

        >>> segmenter_for([BUNDLED_DICTIONARY]).cut_runs(["劳模精神", "爱心托管"])
        ['劳模', '精神', '\\n', '爱心托管']
        """
        return self.cut(RUN_BREAK.join(runs)) if runs else []

    def __repr__(self) -> str:
        names = ", ".join(d.name for d in self.dictionaries)
        return f"<{type(self).__name__} {self.key[:8]} [{names}]>"


class JiebaSegmenter(Segmenter):
    """jieba itself, in a private ``jieba.Tokenizer``: the definition and the fallback."""

    backend = "jieba"

    def __init__(self, key: str, dictionaries: Sequence[Dictionary],
                 recipe: Recipe | None = None):
        super().__init__(key, dictionaries, recipe)
        self._tokenizer = _jieba_tokenizer(dictionaries)

    def cut(self, run: str) -> list[str]:
        return list(self._tokenizer.cut(run, HMM=USE_HMM))


class RjiebaSegmenter(Segmenter):
    """jieba-rs, holding jieba's dictionary, frequencies and total."""

    backend = "rjieba"

    def __init__(self, key: str, dictionaries: Sequence[Dictionary], recipe: Recipe):
        super().__init__(key, dictionaries, recipe)
        jieba_rs = _rjieba_class()()  # its built-in dictionary is jieba's dict.txt
        for word, freq in recipe.words:
            jieba_rs.add_word(word, freq, None)
        if recipe.total_offset:
            jieba_rs.add_word(TOTAL_CARRIER, recipe.total_offset, None)
        self._cut = jieba_rs.cut

    def cut(self, run: str) -> list[str]:
        return self._cut(run, USE_HMM)


def rjieba_available() -> bool:
    if "rjieba" in sys.modules:  # imported, or None: known not to be importable
        return sys.modules["rjieba"] is not None
    return _rjieba_installed()


@functools.lru_cache(maxsize=1)
def _rjieba_installed() -> bool:
    return importlib.util.find_spec("rjieba") is not None  # 0.1 ms: once


def _rjieba_class() -> Any:
    """rjieba's ``Jieba``, without the module-level instance ``import rjieba`` builds.

    That instance is global state we never use, and building it takes as long
    as building ours (0.09 s, a fifth of a cold search): the compiled module
    is loaded on its own when it is where rjieba's package keeps it.
    """
    module = sys.modules.get("rjieba.rjieba")
    if module is None:
        package = importlib.util.find_spec("rjieba")
        folders = list(package.submodule_search_locations or []) if package else []
        for folder in folders:
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = Path(folder) / f"rjieba{suffix}"
                spec = importlib.util.spec_from_file_location("rjieba.rjieba", path)
                if path.is_file() and spec is not None and spec.loader is not None:
                    module = importlib.util.module_from_spec(spec)
                    spec.loader.exec_module(module)
                    sys.modules["rjieba.rjieba"] = module  # ``import rjieba`` reuses it
                    return module.Jieba
        import rjieba

        return rjieba.Jieba
    return module.Jieba


_lock = threading.Lock()
_segmenters: OrderedDict[str, Segmenter] = OrderedDict()


def segmenter_for(sources: Sequence[Path | Dictionary], cache_dir: Path | None = None,
                  backend: str | None = None) -> Segmenter:
    """The segmenter for these user dictionaries, files or bytes (missing files are skipped).

    ``cache_dir`` keeps the computed :class:`Recipe` between processes;
    ``backend`` forces ``"jieba"`` or ``"rjieba"`` (default: rjieba when it
    is installed and can cut exactly as jieba).
    """
    dictionaries = [d for d in map(_read, sources) if d is not None]
    if backend is None:
        backend = "rjieba" if rjieba_available() else "jieba"
    if backend not in ("rjieba", "jieba"):
        raise ValueError(f"unknown segmenter backend {backend!r}")
    key = dictionaries_key(dictionaries)
    with _lock:
        found = _segmenters.get(f"{backend}:{key}")
        if found is not None:
            _segmenters.move_to_end(f"{backend}:{key}")
            if found.recipe is not None:
                _keep_recipe(found.recipe, cache_dir)  # an index folder made since
            return found
        if backend == "jieba":
            segmenter: Segmenter = JiebaSegmenter(key, dictionaries)
        else:
            shared = _user_cache(key)
            recipe = _load_recipe(key, cache_dir) or _load_recipe(key, shared)
            if recipe is None:
                recipe = compute_recipe(key, dictionaries)
                _verified.add((key, recipe.digest()))
                try:
                    shared.mkdir(parents=True, exist_ok=True)
                    _keep_recipe(recipe, shared)
                except OSError:
                    pass  # no writable cache folder: the next process computes it again
            _keep_recipe(recipe, cache_dir)
            segmenter = (RjiebaSegmenter(key, dictionaries, recipe) if recipe.backend == "rjieba"
                         else JiebaSegmenter(key, dictionaries, recipe))
        _segmenters[f"{backend}:{key}"] = segmenter
        while len(_segmenters) > _CACHED_SEGMENTERS:
            _segmenters.popitem(last=False)
        return segmenter


def _read(dictionary: Path | Dictionary) -> Dictionary | None:
    """The dictionary, read again only when its file changed (a stat, not a read:
    every search asks)."""
    if isinstance(dictionary, Dictionary):
        return dictionary
    path = os.fspath(dictionary)
    try:
        stat = os.stat(path)
        stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        cached = _read_files.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        read = Dictionary.read(Path(path))
    except FileNotFoundError:
        return None  # no user dictionary: the corpus uses the bundled one alone
    _read_files[path] = (stamp, read)
    return read


_read_files: dict[str, tuple[tuple[int, int, int, int], Dictionary]] = {}


def dictionaries_key(dictionaries: Sequence[Dictionary]) -> str:
    """A digest of the dictionaries and of jieba's own, in order."""
    digest = hashlib.blake2b(_jieba_identity().encode(), digest_size=16)
    for dictionary in dictionaries:
        digest.update(dictionary.digest)
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def _jieba_identity() -> str:
    jieba_dict = _jieba_dict_path()
    size = jieba_dict.stat().st_size if jieba_dict else None
    return f"jieba={_version('jieba')};dict.txt={size};"


def _user_cache(key: str) -> Path:
    """The user's cache folder for the recipe of these dictionaries:
    ``$XDG_CACHE_HOME/zhsearch/recipes/KEY`` (made when a recipe is written).

    Computing a recipe loads jieba's whole dictionary (1.7 s, 6 % of
    indexing the 2022 subset), for every new index and every process without
    one; like jieba's own cache of its dictionary, the numbers are kept for
    the next. The copy beside an index is the one ``check`` verifies.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "zhsearch" / "recipes" / key


def _load_recipe(key: str, cache_dir: Path | None) -> Recipe | None:
    if cache_dir is None:
        return None
    try:
        text = (Path(cache_dir) / RECIPE_FILE).read_text(encoding="utf-8")
        return Recipe.from_json(json.loads(text), key)
    except (OSError, ValueError):
        return None


def _keep_recipe(recipe: Recipe, cache_dir: Path | None) -> None:
    """Write the recipe beside the index once per process and folder."""
    if cache_dir is None or (str(cache_dir), recipe.key) in _kept:
        return
    if _load_recipe(recipe.key, cache_dir) != recipe:
        try:
            write_atomically(Path(cache_dir) / RECIPE_FILE,
                             json.dumps(recipe.to_json(), ensure_ascii=False).encode(),
                             make_folders=False)
        except OSError:
            return  # a read-only index: the next process computes it again
    _kept.add((str(cache_dir), recipe.key))


_kept: set[tuple[str, str]] = set()


_verified: set[tuple[str, str]] = set()


def verify_recipe(dictionaries: Sequence[Path | Dictionary], cache_dir: Path) -> str | None:
    """Recompute the recipe kept in ``cache_dir``; when it was wrong, replace it,
    forget the segmenters built from it, and say so."""
    read = [d for d in map(_read, dictionaries) if d is not None]
    key = dictionaries_key(read)
    path = Path(cache_dir) / RECIPE_FILE
    try:
        kept = Recipe.from_json(json.loads(path.read_text(encoding="utf-8")), key)
    except (OSError, ValueError):
        kept = None
    if kept is None:
        return None  # none, another key's, or unreadable: never used as it is
    if (key, kept.digest()) in _verified:
        return None  # this process computed those very numbers already
    right = compute_recipe(key, read)
    _verified.add((key, right.digest()))
    if right.digest() == kept.digest():
        return None
    write_atomically(path, json.dumps(right.to_json(), ensure_ascii=False).encode(),
                     make_folders=False)
    with _lock:
        for cached in [k for k in _segmenters if k.endswith(f":{key}")]:
            del _segmenters[cached]
    return "held word frequencies jieba does not give; recomputed, every passage is to be cut again"


def compute_recipe(key: str, dictionaries: Sequence[Dictionary]) -> Recipe:
    """Load the dictionaries into a private jieba and read back its numbers."""
    tokenizer = _jieba_tokenizer([])
    # rjieba's total is its words' frequencies summed once each; jieba's also
    # counts each line of dict.txt (one word there is listed twice).
    builtin = {}
    order: list[str] = []
    for dictionary in dictionaries:
        for word, _ in dictionary.words():
            if word not in builtin:
                builtin[word] = tokenizer.FREQ.get(word, 0)
                order.append(word)
    rjieba_total = sum(tokenizer.FREQ.values())
    for dictionary in dictionaries:
        tokenizer.load_userdict(io.BytesIO(dictionary.data))
    words = []
    for word in order:
        freq = tokenizer.FREQ[word]
        if freq == 0:
            if builtin[word]:
                # jieba now never cuts out a word rjieba cannot forget.
                return Recipe(key, "jieba")
            continue  # a new word at 0 is not a word, in jieba as in rjieba
        words.append((word, freq))
        rjieba_total += freq - builtin[word]
    offset = tokenizer.total - rjieba_total
    if tokenizer.total >= MAX_EXACT or offset < 0:
        return Recipe(key, "jieba")
    recipe = Recipe(key, "rjieba", words, offset)
    # The lexicon comes from the same jieba: keep it for compute_lexicon,
    # which would otherwise start another (0.5-1.7 s).
    _computed_lexicon[:] = [Lexicon.of(key, recipe, tokenizer.FREQ, tokenizer.total)]
    return recipe


def _jieba_tokenizer(dictionaries: Sequence[Dictionary]):
    """A jieba with its own dictionary and these user dictionaries, nothing global."""
    import jieba

    jieba.setLogLevel(logging.WARNING)  # not "Building prefix dict…" on every command
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for dictionary in dictionaries:
        tokenizer.load_userdict(io.BytesIO(dictionary.data))
    return tokenizer


@functools.lru_cache(maxsize=1)
def _jieba_dict_path() -> Path | None:
    """jieba's dict.txt, found without importing jieba (which takes 0.13 s)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "dict.txt"
    return path if path.is_file() else None


@functools.lru_cache(maxsize=None)
def _version(package: str) -> str:
    """The installed version, read off the ``NAME-VERSION.dist-info`` folder beside
    the package: ``importlib.metadata`` costs 0.05 s to import, a tenth of a
    cold search."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return "none"
    folder = Path(next(iter(spec.submodule_search_locations))).parent
    found = sorted(folder.glob(f"{package}-*.dist-info"))
    if len(found) == 1:
        return found[0].name[len(package) + 1:-len(".dist-info")]
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"


# -- the lexicon: cutting a query without building the whole dictionary -------

LEXICON_FILE = "segmenter.lexicon"
LEXICON_FORMAT = 1
# A longer text is cut by the whole dictionary: each of its characters costs
# a few lookups of ~20 us (a passage of 5,000 characters would take ~0.3 s),
# while building rjieba's dictionary costs 0.09-0.11 s once.
LEXICON_MAX_CHARS = 256
# jieba's dictionary with the bundled one: 349,066 words, 7.5 MB as a lexicon.
# A larger file is not read (a hostile index folder): the whole dictionary is.
MAX_LEXICON_BYTES = 256 * 1024 * 1024
_HAN_RUN = re.compile(f"[{JIEBA_HAN}]+")


@dataclass(frozen=True)
class Lexicon:
    """Every word jieba would cut with these dictionaries, with its frequency, and
    jieba's total, sorted by UTF-8 bytes (code point order) to be looked up in place.

    Cutting a run depends only on the words that occur in it and on the total
    (jieba's DAG and route): a rjieba holding just those words and the total
    cuts it exactly as the whole dictionary does (51,144 of 51,144 runs of 60
    files of 2022 and the bundled report). Derived data, keyed by the
    dictionaries and the recipe; ``check`` recomputes it.
    """

    key: str
    recipe: str  # Recipe.digest() of the recipe it goes with
    total: int
    offsets: Sequence[int]  # word i is blob[offsets[i]:offsets[i + 1]]
    freqs: Sequence[int]
    blob: bytes

    @classmethod
    def of(cls, key: str, recipe: Recipe, freq: dict[str, int], total: int) -> Lexicon:
        words = sorted(w.encode() for w, f in freq.items() if f > 0)
        offsets = array.array("Q", [0])
        for word in words:
            offsets.append(offsets[-1] + len(word))
        freqs = array.array("q", (freq[w.decode()] for w in words))
        return cls(key, recipe.digest(), total, offsets, freqs, b"".join(words))

    def to_bytes(self) -> bytes:
        """A JSON header line, then the offsets, the frequencies and the words."""
        payload = _little(self.offsets, "Q") + _little(self.freqs, "q") + self.blob
        header = {"format": LEXICON_FORMAT, "key": self.key, "recipe": self.recipe,
                  "total": self.total, "words": len(self.freqs), "blob": len(self.blob),
                  "crc32": zlib.crc32(payload)}
        return json.dumps(header).encode() + b"\n" + payload

    @classmethod
    def from_bytes(cls, data: bytes, key: str, recipe: Recipe) -> Lexicon | None:
        """The lexicon if ``data`` is whole (CRC32) and made for this key and recipe.

        The numbers are read in place (a view, not a copy: 8.6 MB copied
        twice cost more than the rest of reading it)."""
        end = data.find(b"\n")
        try:
            header = json.loads(data[:end])
            if end < 0 or header.get("format") != LEXICON_FORMAT or header.get("key") != key \
                    or header.get("recipe") != recipe.digest():
                return None
            count, size, total = int(header["words"]), int(header["blob"]), int(header["total"])
            crc = int(header["crc32"])
        except (AttributeError, KeyError, TypeError, ValueError, RecursionError):
            return None
        payload = memoryview(data)[end + 1:]
        if count < 0 or len(payload) != 16 * count + 8 + size or zlib.crc32(payload) != crc \
                or not 0 < total < MAX_EXACT:
            return None
        offsets: Sequence[int] = payload[:8 * (count + 1)].cast("Q")
        freqs: Sequence[int] = payload[8 * (count + 1):16 * count + 8].cast("q")
        if sys.byteorder != "little":
            offsets, freqs = array.array("Q", offsets), array.array("q", freqs)
            offsets.byteswap()
            freqs.byteswap()
        if offsets[0] != 0 or offsets[-1] != size:
            return None
        return cls(key, recipe.digest(), total, offsets, freqs, bytes(payload[16 * count + 8:]))

    def _word(self, index: int) -> bytes:
        return self.blob[self.offsets[index]:self.offsets[index + 1]]

    def words_in(self, run: str) -> dict[str, int]:
        """Every word of the lexicon that occurs in ``run``, with its frequency.

        >>> lexicon = Lexicon.of("k", Recipe("k", "rjieba"), {"劳模": 5, "劳": 9, "模范": 3}, 100)
        >>> lexicon.words_in("劳模范")
        {'劳': 9, '劳模': 5, '模范': 3}
        """
        found: dict[str, int] = {}
        count = len(self.freqs)
        encoded = [c.encode() for c in run]
        for start in range(len(encoded)):
            fragment = b""
            for char in encoded[start:]:
                fragment += char
                index = bisect.bisect_left(range(count), fragment, key=self._word)
                if index == count:
                    break
                word = self._word(index)
                if not word.startswith(fragment):
                    break  # no longer word starts so: jieba's prefix scan stops too
                if word == fragment:
                    found[fragment.decode()] = self.freqs[index]
        return found


def _little(numbers: Sequence[int], typecode: str) -> bytes:
    packed = array.array(typecode, numbers)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


class LexiconSegmenter(Segmenter):
    """Cuts a short text (a query) as :class:`RjiebaSegmenter` does, with a rjieba
    that holds only the words of that text: a cold search need not build
    rjieba's whole dictionary (0.09-0.11 s, a fifth of it)."""

    backend = "rjieba"  # the same fingerprint: it cuts the same words

    def __init__(self, key: str, dictionaries: Sequence[Dictionary], recipe: Recipe,
                 lexicon: Lexicon, whole: Callable[[], Segmenter]):
        super().__init__(key, dictionaries, recipe)
        self.lexicon = lexicon
        self._whole = whole

    def cut(self, run: str) -> list[str]:
        if len(run) > LEXICON_MAX_CHARS:
            return self._whole().cut(run)
        words: dict[str, int] = {}
        for match in _HAN_RUN.finditer(run):
            words.update(self.lexicon.words_in(match.group()))
        rest = self.lexicon.total - sum(words.values())
        if rest <= 0 or any(not 0 < freq < MAX_EXACT for freq in words.values()):
            return self._whole().cut(run)  # numbers no jieba gives: never handed to rjieba
        jieba_rs = _rjieba_class().empty()
        for word, freq in words.items():
            jieba_rs.add_word(word, freq, None)
        jieba_rs.add_word(TOTAL_CARRIER, rest, None)  # jieba's total, as in RjiebaSegmenter
        return jieba_rs.cut(run, USE_HMM)


def lexicon_segmenter(sources: Sequence[Path | Dictionary],
                      cache_dir: Path) -> Segmenter | None:
    """A segmenter for short texts that reads the lexicon kept in ``cache_dir``
    instead of building rjieba's dictionary; the whole one when this process
    has it already; None when there is no rjieba recipe and lexicon to read."""
    dictionaries = [d for d in map(_read, sources) if d is not None]
    if not rjieba_available():
        return None
    key = dictionaries_key(dictionaries)
    with _lock:
        found = _segmenters.get(f"rjieba:{key}")
    if found is not None:
        return found
    recipe = _load_recipe(key, cache_dir)
    if recipe is None or recipe.backend != "rjieba":
        return None
    lexicon = _load_lexicon(key, recipe, cache_dir)
    if lexicon is None:
        return None
    return LexiconSegmenter(key, dictionaries, recipe, lexicon,
                            lambda: segmenter_for(sources, cache_dir=cache_dir))


def _load_lexicon(key: str, recipe: Recipe, folder: Path | None) -> Lexicon | None:
    """The lexicon kept in ``folder``, read again only when its file changed
    (reading and checking 8.6 MB takes 0.01-0.02 s; a search asks twice)."""
    if folder is None:
        return None
    path = os.fspath(Path(folder) / LEXICON_FILE)
    try:
        with open(path, "rb") as file:
            stat = os.fstat(file.fileno())
            stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
            cached = _read_lexicons.get(path)
            if cached is not None and cached[0] == stamp and cached[1].key == key \
                    and cached[1].recipe == recipe.digest():
                return cached[1]
            data = file.read(MAX_LEXICON_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_LEXICON_BYTES:
        return None
    lexicon = Lexicon.from_bytes(data, key, recipe)
    if lexicon is not None:
        _read_lexicons[path] = (stamp, lexicon)
    return lexicon


_read_lexicons: dict[str, tuple[tuple[int, int, int, int], Lexicon]] = {}


def compute_lexicon(key: str, recipe: Recipe, dictionaries: Sequence[Dictionary]) -> Lexicon:
    """Load the dictionaries into a private jieba (0.5-1.7 s) and read back every
    word's frequency and the total."""
    for lexicon in _computed_lexicon:
        if lexicon.key == key and lexicon.recipe == recipe.digest():
            return lexicon
    tokenizer = _jieba_tokenizer(dictionaries)
    return Lexicon.of(key, recipe, tokenizer.FREQ, tokenizer.total)


_computed_lexicon: list[Lexicon] = []  # the last one compute_recipe made


def keep_lexicon(sources: Sequence[Path | Dictionary], cache_dir: Path) -> None:
    """Keep the lexicon of these dictionaries beside the index (from the user's
    cache, else computed once and kept there too), for :func:`lexicon_segmenter`.
    Nothing when the index is cut by jieba; best effort on a read-only folder."""
    dictionaries = [d for d in map(_read, sources) if d is not None]
    if not rjieba_available():
        return
    key = dictionaries_key(dictionaries)
    recipe = _load_recipe(key, cache_dir)
    if recipe is None or recipe.backend != "rjieba" or \
            (str(cache_dir), f"lexicon:{key}:{recipe.digest()}") in _kept:
        return
    if _load_lexicon(key, recipe, cache_dir) is None:
        shared = _user_cache(key)
        lexicon = _load_lexicon(key, recipe, shared)
        if lexicon is None:
            lexicon = compute_lexicon(key, recipe, dictionaries)
            try:
                shared.mkdir(parents=True, exist_ok=True)
                write_atomically(shared / LEXICON_FILE, lexicon.to_bytes(), make_folders=False)
            except OSError:
                pass  # no writable cache folder: the next index computes it again
        try:
            write_atomically(Path(cache_dir) / LEXICON_FILE, lexicon.to_bytes(),
                             make_folders=False)
        except OSError:
            return  # a read-only index: queries are cut by the whole dictionary
    _kept.add((str(cache_dir), f"lexicon:{key}:{recipe.digest()}"))


def verify_lexicon(sources: Sequence[Path | Dictionary], cache_dir: Path,
                   recompute: bool = True) -> str | None:
    """Recompute the lexicon kept in ``cache_dir``; when it was wrong, replace it
    and say so. One made for other dictionaries or recipe is never read.

    Without ``recompute``, a lexicon whole by its checksum and made for these
    dictionaries and recipe is taken as it is: recomputing loads jieba's
    whole dictionary, 1.26 s of the 1.6 s ``zhsearch index`` spent checking
    the 2022 news after writing it."""
    dictionaries = [d for d in map(_read, sources) if d is not None]
    key = dictionaries_key(dictionaries)
    recipe = _load_recipe(key, cache_dir)
    path = Path(cache_dir) / LEXICON_FILE
    if recipe is None or recipe.backend != "rjieba" or not path.exists():
        return None
    if not recompute and _load_lexicon(key, recipe, Path(cache_dir)) is not None:
        return None
    right = compute_lexicon(key, recipe, dictionaries).to_bytes()
    try:
        kept = path.read_bytes() if path.stat().st_size <= MAX_LEXICON_BYTES else b""
    except OSError:
        kept = b""
    if kept == right:
        return None
    write_atomically(path, right, make_folders=False)
    if kept[:kept.find(b"\n")] != right[:right.find(b"\n")]:
        return None  # made for a recipe since replaced: never read, now current
    return "did not hold jieba's words and frequencies; recomputed"
