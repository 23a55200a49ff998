"""Does jieba-rs cut exactly as jieba? Every run of Chinese characters of a folder, both ways.

    python benchmarks/segment_identity.py [FOLDER] [--files N]

FOLDER defaults to the news folder (/work/shared/data/cctv_news). Each file is
normalised as the analyser normalises it, and each run of the characters
jieba segments (the runs ``indexer.analysis`` hands to a segmenter) is cut
HMM off by:

- jieba: a private ``jieba.Tokenizer`` with the dictionaries (the definition);
- rjieba: ``indexer.segmenter``'s jieba-rs segmenter (built-in dictionary,
  user words at jieba's frequencies, jieba's total);
- rjieba over ``dict.txt``: an empty jieba-rs loaded line by line from jieba's
  own dictionary file, then the same user words: whether the built-in
  dictionary cuts as jieba's file does, and what loading the file costs.

Two configurations: the bundled dictionary, and the bundled one plus a user
dictionary whose lines have and lack frequencies, some re-weighting words of
jieba's dictionary. Prints runs compared, identical, and MB/s (UTF-8 bytes of
the runs) of each.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.normalize import normalize_text  # noqa: E402
from indexer.segmenter import (BUNDLED_DICTIONARY, JIEBA_HAN, RUN_BREAK, TOTAL_CARRIER,  # noqa: E402
                               Dictionary, JiebaSegmenter, RjiebaSegmenter, compute_recipe,
                               dictionaries_key, segmenter_for)

NEWS = Path("/work/shared/data/cctv_news")
RUN = re.compile(f"[{JIEBA_HAN}]+")

# New words with and without a frequency, and words of jieba's dictionary
# given another one (which moves jieba's total away from rjieba's own).
USER_DICTIONARY = """\
暖企行动
县总工会 800 nt
技能培训
劳模创新工作室
新就业形态劳动者
乡村振兴 5000 n
高质量发展 20000
发展 1
工作 90000 vn
中国 50
一带一路
""".encode()


def runs_of(path: Path) -> list[str]:
    return RUN.findall(normalize_text(path.read_text(encoding="utf-8", errors="replace")))


def rjieba_over_dict_txt(dictionaries: list[Dictionary]) -> tuple[object, float]:
    """jieba-rs with jieba's dict.txt loaded by hand, then the recipe: (cut, seconds)."""
    import jieba
    import rjieba

    recipe = compute_recipe(dictionaries_key(dictionaries), dictionaries)
    started = time.perf_counter()
    empty = rjieba.Jieba.empty()
    with jieba.Tokenizer().get_dict_file() as dict_txt:
        for line in dict_txt:
            word, freq, tag = line.decode("utf-8").split()
            empty.add_word(word, int(freq), tag)
    for word, freq in recipe.words:
        empty.add_word(word, freq, None)
    if recipe.total_offset:
        empty.add_word(TOTAL_CARRIER, recipe.total_offset, None)
    return empty.cut, time.perf_counter() - started


def compare(files: list[Path], dictionaries: list[Dictionary], label: str) -> None:
    reference = segmenter_for(dictionaries, backend="jieba")
    fast = segmenter_for(dictionaries, backend="rjieba")
    assert isinstance(reference, JiebaSegmenter) and isinstance(fast, RjiebaSegmenter), fast
    loaded_cut, load_seconds = rjieba_over_dict_txt(dictionaries)
    compared = identical = same_as_loaded = 0
    nbytes = 0
    seconds = {"jieba": 0.0, "rjieba": 0.0, "rjieba, a file's runs in one call": 0.0}
    joined_same = 0
    shown = 0
    for path in files:
        runs = runs_of(path)
        nbytes += sum(len(r.encode("utf-8")) for r in runs)
        started = time.perf_counter()
        expected = [reference.cut(r) for r in runs]
        seconds["jieba"] += time.perf_counter() - started
        started = time.perf_counter()
        got = [fast.cut(r) for r in runs]
        seconds["rjieba"] += time.perf_counter() - started
        started = time.perf_counter()
        joined = fast.cut_runs(runs)  # as indexer.analysis cuts a passage
        seconds["rjieba, a file's runs in one call"] += time.perf_counter() - started
        expected_joined = [w for k, g in enumerate(got) for w in ([RUN_BREAK] if k else []) + g]
        joined_same += joined == expected_joined
        for run, e, g in zip(runs, expected, got):
            compared += 1
            identical += e == g
            same_as_loaded += g == loaded_cut(run, False)
            if e != g and shown < 5:
                print(f"  differs in {path.name}: jieba {e} rjieba {g}")
                shown += 1
    mb = nbytes / 1e6
    print(f"\n## {label}")
    print(f"files {len(files)}, runs compared {compared:,}, {mb:.2f} MB of Chinese text")
    print(f"identical (rjieba = jieba): {identical:,} of {compared:,}")
    print(f"rjieba built-in dictionary = jieba's dict.txt loaded into an empty rjieba "
          f"({load_seconds:.2f} s to load): {same_as_loaded:,} of {compared:,}")
    print(f"files whose runs cut in one call give the same words: {joined_same} of {len(files)}")
    for name, spent in seconds.items():
        print(f"{name:36s} {mb / spent:6.2f} MB/s  ({spent:.1f} s, "
              f"{seconds['jieba'] / spent:.1f}x jieba)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=NEWS)
    parser.add_argument("--files", type=int, default=0, help="only the first N files (0: all)")
    args = parser.parse_args()
    files = sorted(p for p in args.folder.iterdir() if p.is_file())
    if args.files:
        files = files[:args.files]
    bundled = Dictionary.read(BUNDLED_DICTIONARY)
    compare(files, [bundled], "bundled dictionary")
    compare(files, [bundled, Dictionary("userdict.dic", USER_DICTIONARY)],
            "bundled + a user dictionary with and without frequencies")


if __name__ == "__main__":
    main()
