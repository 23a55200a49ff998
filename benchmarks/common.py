"""Helpers shared by the benchmark scripts: corpus selection, memory sampling, statistics.

Nothing here imports ``indexer.analysis``: the reference implementation must
run on stock jieba, without zhsearch's user dictionary in jieba's global state.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import statistics
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
# Measure the engine of this checkout, not whatever `zhsearch` is installed.
if str(REPO) not in sys.path:
    sys.path.insert(1, str(REPO))

from indexer.readers import UnsupportedFile, is_supported, read_report  # noqa: E402

QUERIES = BENCH_DIR / "queries.txt"


def report_files(corpus_dir: Path) -> list[tuple[str, Path]]:
    """``(source, path)`` of every report file, chosen as ``Corpus.files`` does.

    Symbolic links are left out, as zhsearch leaves them out (a link may lead
    out of the corpus folder).
    """
    found = []
    for path in sorted(corpus_dir.rglob("*")):
        rel = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and not path.is_symlink() and is_supported(path):
            found.append((rel.as_posix(), path))
    return found


def link_subset(data_dir: Path, pattern: str, target: Path) -> Path:
    """A corpus folder of hard links to ``data_dir/pattern`` (copies across file systems).

    Not symbolic links: zhsearch indexes none (they may lead out of the
    corpus folder). A hard link costs no space and no copy of the data;
    nothing in the benchmark writes to the corpus.
    """
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(data_dir.glob(pattern)):
        if path.is_file():
            link = target / path.name
            try:
                os.link(path.resolve(), link)
            except OSError:  # another file system, or links not allowed
                shutil.copyfile(path, link)
    return target


def link_copies(data_dir: Path, pattern: str, copies: int, target: Path) -> Path:
    """``copies`` folders ``copy1/ … copyN/`` of hard links to ``data_dir/pattern``.

    The same reports under other names (``copy2/20220101.md``): a corpus
    ``copies`` times the size for the scale runs, with nothing copied.
    """
    for n in range(1, copies + 1):
        link_subset(data_dir, pattern, target / f"copy{n}")
    return target


def passages(data: bytes, source: str) -> list[str]:
    """The passage texts zhsearch indexes for one file (every passage of every article)."""
    try:
        articles = read_report(data, source)
    except UnsupportedFile:
        return []
    return [p.text for a in articles for p in a.passages]


def iter_passages(corpus_dir: Path) -> Iterator[tuple[str, str]]:
    """``(source, text)`` for every passage of the corpus, one file in memory at a time."""
    for source, path in report_files(corpus_dir):
        for text in passages(path.read_bytes(), source):
            yield source, text


def passages_with_articles(corpus_dir: Path) -> Iterator[tuple[str, str, str]]:
    """``(source, article title, text)`` for every passage of the corpus."""
    for source, path in report_files(corpus_dir):
        try:
            articles = read_report(path.read_bytes(), source)
        except UnsupportedFile:
            continue
        for article in articles:
            for passage in article.passages:
                yield source, article.title, passage.text


def passage_key(source: str, text: str) -> str:
    """A short stable name of one passage, the same in every engine's process."""
    digest = hashlib.blake2b(f"{source}\x00{text}".encode("utf-8"), digest_size=8)
    return digest.hexdigest()


def scan_terms(query: str) -> list[str]:
    """The strings the exact-substring scan requires: the query's space-separated parts."""
    return query.split()


def scan_matches(query: str, texts: Iterable[str]) -> Iterator[int]:
    """Numbers of the texts holding every part of ``query`` verbatim: the recall reference."""
    terms = scan_terms(query)
    if not terms:
        return iter(())
    return (i for i, text in enumerate(texts) if all(t in text for t in terms))


def marker(words: Iterable[str]):
    """``text -> text`` with every occurrence of ``words`` in ``<b>``: the peers' highlighting."""
    words = sorted({w for w in words if w}, key=len, reverse=True)
    if not words:
        return lambda text: text
    pattern = re.compile("|".join(map(re.escape, words)))
    return lambda text: pattern.sub(r"<b>\g<0></b>", text)


def read_queries(path: Path = QUERIES) -> list[str]:
    """One query per line; blank lines and ``#`` comments skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


# What each kind of file of a zhsearch index holds, by how its name ends:
# issue 20 asks what each part costs (the postings live in Whoosh's .pst and
# again in the arrays).
INDEX_PARTS = (
    ("postings (Whoosh .pst)", (".pst",)),
    ("term dictionary (Whoosh .trm)", (".trm",)),
    ("stored fields (Whoosh _stored.col)", ("._stored.col",)),
    ("other columns (Whoosh .col)", (".col",)),
    ("arrays (.zharrays)", (".zharrays",)),
)


def index_parts(folder: Path) -> dict[str, int]:
    """Bytes of a zhsearch index folder by part (``INDEX_PARTS``, the first
    ending that fits), the rest as ``other``."""
    parts = dict.fromkeys([name for name, _ in INDEX_PARTS] + ["other"], 0)
    for f in folder.rglob("*"):
        if not f.is_file():
            continue
        name = next((part for part, ends in INDEX_PARTS if f.name.endswith(ends)), "other")
        parts[name] += f.stat().st_size
    return parts


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100), linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class PeakTreeRSS:
    """Samples the resident memory of a process and all its descendants.

    Whoosh's MpWriter forks worker processes, and a pre-fork server (gunicorn)
    serves from several, so the RSS of the parent alone would miss most of
    the memory. The sum of RSS counts a page shared by several processes
    (copy-on-write after a fork, a memory-mapped file in the page cache)
    once per process: an upper bound of the real footprint. With
    ``pss=True`` it also sums the proportional set size (a shared page
    divided among the processes that map it), the footprint without that
    double counting.
    """

    def __init__(self, pid: int, interval: float = 0.05, pss: bool = False):
        import psutil  # in the `bench` extra

        self._psutil = psutil
        self.pid = pid
        self.interval = interval
        self.pss = pss
        self.peak = 0
        self.peak_pss = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakTreeRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def processes(self) -> list:
        psutil = self._psutil
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def sample(self) -> int:
        psutil = self._psutil
        procs = self.processes()
        total = pss = 0
        for proc in procs:
            try:
                if self.pss:
                    info = proc.memory_full_info()
                    pss += info.pss
                else:
                    info = proc.memory_info()
                total += info.rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue  # a worker that just ended
        if total > self.peak:
            self.peak, self.peak_processes = total, len(procs)
        self.peak_pss = max(self.peak_pss, pss)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)


def load_average() -> str:
    """The 1/5/15-minute load averages: how busy the shared machine was."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def machine() -> str:
    """One line naming the machine: CPU model, cores, memory, Python."""
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                          if line.startswith("MemTotal")))
        mem = f"{mem_kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration, ValueError):
        mem = "? GB RAM"
    return (f"{cpu}, {os.cpu_count()} cores, {mem}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def engine_version() -> str:
    """The engine's last commit, with ``+changes`` when indexer/ or web/ differ from it."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip()

    # The last commit that changed the engine: a docs-only commit is not a new engine.
    commit = git("log", "-1", "--format=%h", "--", "indexer", "web") or "unknown"
    return commit + ("+changes" if git("status", "--porcelain", "--", "indexer", "web") else "")
