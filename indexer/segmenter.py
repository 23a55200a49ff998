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
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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

    def __init__(self, message: str):
        super().__init__(message, hint="fix userdict.dic in the corpus folder, or remove it")


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


def _rjieba_class() -> type:
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
            _write_atomically(Path(cache_dir) / RECIPE_FILE,
                              json.dumps(recipe.to_json(), ensure_ascii=False).encode())
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
    _write_atomically(path, json.dumps(right.to_json(), ensure_ascii=False).encode())
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
    return Recipe(key, "rjieba", words, offset)


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


def _write_atomically(path: Path, data: bytes) -> None:
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".zhsearch-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
