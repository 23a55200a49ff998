"""Recall of words cut by line breaks, over the whole news folder rewrapped.

Every transcript's body paragraphs are rewrapped as plain text at each
width (display columns), in a layout drawn at random per file and width
(seeded: blank line after every line or not, indents, CRLF, trailing white
space, word or character wrap of Latin, kinsoku, bylines/date lines/captions
among the paragraphs, 记者/新华社/本报讯 openings, URLs and English words), read
with zhsearch's plain-text reader, and checked: every string of 2-6 Chinese
characters that crosses a line break is looked up in the file's passages.
Also counted: paragraphs parted by a blank line, in a file with no blank
lines between its lines, that a passage joins.

    python benchmarks/reflow_recall.py [--data ../shared/data/cctv_news] [--widths 12 20 34]
        [--files N] [--seed 0] [--json benchmarks/out/reflow_recall.json]

Last run (all 1,691 transcripts, seed 0, 2 shared cores):

    width  MB    lines      strings across breaks  found       blank-line breaks  joined
    12     42.0  1,901,741  7,987,356              7,987,356   58,563             0
    20     41.1  1,250,212  4,658,153              4,658,153   55,555             0
    34     40.4    810,132  2,541,399              2,541,399   54,996             0

The plain-text reader before issue 12 (main at b6d3de0), on the same files and
widths (with the layouts' earlier 记者 openings): found 97.30 %, 95.05 %, 79.19 %
(973,591 of 15,162,632 strings lost); joined 0.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.readers import read_report  # noqa: E402
from tests.layouts import (  # noqa: E402
    build,
    decorate,
    joined_paragraphs,
    news_paragraphs,
    passage_grams,
    random_layout,
)


def check_file(path: Path, width: int, seed: int) -> dict:
    paragraphs = list(news_paragraphs(path))
    if not paragraphs:
        return {"files": 0}
    rng = random.Random(zlib.crc32(f"{seed}:{path.name}:{width}".encode()))
    layout = random_layout(rng, width)
    chosen, furniture = decorate(paragraphs, rng)
    built = build(chosen, layout, furniture, rng)
    texts = [p.text for a in read_report(built.text.encode("utf-8"), path.stem + ".txt")
             for p in a.passages]
    grams = passage_grams(texts)
    lost = [s for s in built.crossing if s not in grams]
    return {
        "files": 1, "bytes": len(built.text.encode("utf-8")),
        "lines": built.text.count("\n"), "tried": len(built.crossing),
        "found": len(built.crossing) - len(lost), "lost_examples": lost[:3],
        "boundaries": len(built.boundaries), "joined": len(joined_paragraphs(built, texts)),
        "double": layout.double, "by_chars": layout.by_chars,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "cctv_news")
    parser.add_argument("--widths", type=int, nargs="+", default=[12, 20, 34])
    parser.add_argument("--files", type=int, default=0, help="only the first N files (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    files = sorted(args.data.glob("*.md"))
    if args.files:
        files = files[:args.files]
    if not files:
        sys.exit(f"no .md files in {args.data}")
    rows = []
    for width in args.widths:
        total = {"width": width, "files": 0, "bytes": 0, "lines": 0, "tried": 0, "found": 0,
                 "boundaries": 0, "joined": 0, "files_with_loss": 0, "lost_examples": []}
        started = time.perf_counter()
        for path in files:
            result = check_file(path, width, args.seed)
            if not result["files"]:
                continue
            for key in ("files", "bytes", "lines", "tried", "found", "boundaries", "joined"):
                total[key] += result[key]
            if result["found"] < result["tried"]:
                total["files_with_loss"] += 1
                total["lost_examples"].append((path.name, result["lost_examples"]))
        total["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(total)
        print(f"width {width:>2}: {total['files']} files, {total['bytes'] / 1e6:.1f} MB, "
              f"{total['lines']:,} lines; strings across line breaks tried {total['tried']:,}, "
              f"found {total['found']:,} ({100 * total['found'] / max(total['tried'], 1):.4f} %); "
              f"blank-line paragraph breaks {total['boundaries']:,}, joined {total['joined']}; "
              f"{total['seconds']} s", flush=True)
        for name, lost in total["lost_examples"][:5]:
            print(f"    lost in {name}: {lost}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
