"""Word segmenters: one instance per set of dictionaries, never jieba's global one.

jieba keeps one dictionary per process: ``jieba.load_userdict`` for one corpus
changed how every other corpus of the process was cut, while their indexes
still claimed the old words. Here each set of user dictionaries gets a private
``jieba.Tokenizer`` (jieba's dictionary, then the user dictionaries, exactly
as ``load_userdict`` reads them), cached in the process by the dictionaries'
content: two stores with the same dictionaries share one, two with different
ones never meet, and an edited dictionary makes a new one.

>>> seg = segmenter_for([BUNDLED_DICTIONARY])
>>> seg.cut("推进爱心托管服务")
['推进', '爱心托管', '服务']
>>> segmenter_for([BUNDLED_DICTIONARY]) is seg
True
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
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
# returns one by one.
JIEBA_HAN = "\u4e00-\u9fd5"

# A user dictionary larger than this is refused: it is read whole, and every
# word goes into memory once per segmenter.
MAX_DICTIONARY_BYTES = 16 * 1024 * 1024

_CACHED_SEGMENTERS = 8  # an edited dictionary makes a new one; keep a few


class DictionaryError(ZhsearchError, ValueError):
    """A user dictionary that cannot be read (too large, not UTF-8)."""

    default_code = "bad_dictionary"

    def __init__(self, message: str):
        super().__init__(message, hint="fix userdict.dic in the corpus folder, or remove it")


@dataclass(frozen=True)
class Dictionary:
    """One user dictionary's bytes, with where they came from."""

    name: str
    data: bytes

    @classmethod
    def read(cls, path: Path) -> Dictionary:
        """The file's bytes; FileNotFoundError when there is none, DictionaryError
        when it cannot be a dictionary."""
        try:
            with open(path, "rb") as file:
                data = file.read(MAX_DICTIONARY_BYTES + 1)
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
        return cls(path.name, data)


class Segmenter:
    """Cuts runs of Chinese characters into words; one per set of dictionaries."""

    backend = ""

    def __init__(self, key: str, dictionaries: Sequence[Dictionary]):
        self.key = key
        self.dictionaries = tuple(dictionaries)

    @property
    def fingerprint(self) -> str:
        """Everything that decides the words: dictionaries, backend and its version, HMM."""
        return f"{self.backend}-{_version(self.backend)};hmm={USE_HMM};dict={self.key}"

    def cut(self, run: str) -> list[str]:
        raise NotImplementedError

    def __repr__(self) -> str:
        names = ", ".join(d.name for d in self.dictionaries)
        return f"<{type(self).__name__} {self.key[:8]} [{names}]>"


class JiebaSegmenter(Segmenter):
    """jieba itself, in a private ``jieba.Tokenizer``: the definition and the fallback."""

    backend = "jieba"

    def __init__(self, key: str, dictionaries: Sequence[Dictionary]):
        super().__init__(key, dictionaries)
        self._tokenizer = _jieba_tokenizer(dictionaries)

    def cut(self, run: str) -> list[str]:
        return list(self._tokenizer.cut(run, HMM=USE_HMM))


_lock = threading.Lock()
_segmenters: OrderedDict[str, Segmenter] = OrderedDict()


def segmenter_for(dictionaries: Sequence[Path | Dictionary]) -> Segmenter:
    """The segmenter for these user dictionaries, files or bytes (missing files are skipped)."""
    dictionaries = [d for d in map(_read, dictionaries) if d is not None]
    key = dictionaries_key(dictionaries)
    with _lock:
        found = _segmenters.get(key)
        if found is not None:
            _segmenters.move_to_end(key)
            return found
        segmenter = _segmenters[key] = JiebaSegmenter(key, dictionaries)
        while len(_segmenters) > _CACHED_SEGMENTERS:
            _segmenters.popitem(last=False)
        return segmenter


def _read(dictionary: Path | Dictionary) -> Dictionary | None:
    if isinstance(dictionary, Dictionary):
        return dictionary
    try:
        return Dictionary.read(Path(dictionary))
    except FileNotFoundError:
        return None  # no user dictionary: the corpus uses the bundled one alone


def dictionaries_key(dictionaries: Sequence[Dictionary]) -> str:
    """A digest of the dictionaries and of jieba's own, in order."""
    digest = hashlib.blake2b(digest_size=16)
    jieba_dict = _jieba_dict_path()
    stat = jieba_dict.stat() if jieba_dict else None
    digest.update(f"jieba={_version('jieba')};dict.txt={stat and stat.st_size};".encode())
    for dictionary in dictionaries:
        digest.update(len(dictionary.data).to_bytes(8, "little"))
        digest.update(dictionary.data)
    return digest.hexdigest()


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


_versions: dict[str, str] = {}


def _version(package: str) -> str:
    if package not in _versions:
        try:
            _versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            _versions[package] = "none"
    return _versions[package]
