"""Peak memory of ``zhsearch index`` per phase, for issue 20's "flat memory".

    python benchmarks/index_memory.py CORPUS INDEX      # a fresh `zhsearch index`
    python benchmarks/index_memory.py --arrays INDEX    # every segment's arrays rebuilt,
                                                        # two processes, as after a commit

Runs the CLI in this process. A thread polls the process tree every 50 ms
and keeps, per phase, the largest single RSS, the sum of RSS and the sum of
PSS (shared pages counted once). Phases: ``read`` (files read, passages
added, bulk workers forked as they fill), ``commit`` (the rest written, the
workers joined, the table of contents), ``merge`` (the parts merged into
one segment per tier, indexer.bulkmerge; then ``after merge``), ``after
commit`` (the arrays built for segments that have none), ``arrays`` (``--arrays``). Memory, not time:
the figures hold on a loaded machine. Prints to stderr.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time

import psutil
from whoosh import index as whoosh_index
from whoosh import writing

from indexer import arrays_format, bulkmerge, bulkwriter, cli, postings

phase = ["start"]
peaks: dict[str, list[int]] = {}
stopped = threading.Event()
me = psutil.Process()


def sample() -> None:
    while not stopped.is_set():
        try:
            procs = [me, *me.children(recursive=True)]
        except psutil.Error:
            continue
        rss = pss = top = 0
        for proc in procs:
            try:
                info = proc.memory_full_info()
            except psutil.Error:
                continue
            rss += info.rss
            pss += info.pss
            top = max(top, info.rss)
        cur = peaks.setdefault(phase[0], [0, 0, 0, 0])
        cur[:] = [max(cur[0], top), max(cur[1], rss), max(cur[2], pss), max(cur[3], len(procs))]
        time.sleep(0.05)


def marked(owner, name: str, label: str) -> None:
    original = getattr(owner, name)

    def wrapped(*args, **kwargs):
        phase[0] = label
        try:
            return original(*args, **kwargs)
        finally:
            phase[0] = "after " + label

    setattr(owner, name, wrapped)


def main(argv: list[str]) -> None:
    marked(bulkwriter.BulkWriter, "commit", "commit")
    marked(writing.SegmentWriter, "commit", "commit")
    marked(bulkmerge, "merge_segments", "merge")
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    start = time.time()
    if argv[0] == "--arrays":
        folder = argv[1]
        for name in os.listdir(folder):
            if name.endswith(arrays_format.SUFFIX):
                os.unlink(os.path.join(folder, name))
        phase[0] = "arrays"
        built = postings.build_missing(whoosh_index.open_dir(folder), folder, procs=2)
        print(f"{built} segments' arrays built", file=sys.stderr)
    else:
        phase[0] = "read"
        try:
            cli.cli(["--corpus", argv[0], "--index", argv[1], "index", *argv[2:]])
        except SystemExit:
            pass
    stopped.set()
    thread.join()
    mb = 1 << 20
    cpu = sum(getattr(resource.getrusage(who), f) for who in
              (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for f in ("ru_utime", "ru_stime"))
    print(f"CPU {cpu:.1f} s (this process and its children)", file=sys.stderr)
    print(f"wall {time.time() - start:.1f} s; maxrss of this process "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB, of a child "
          f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024} MB", file=sys.stderr)
    for name, (top, rss, pss, count) in peaks.items():
        print(f"{name:14s} largest RSS {top // mb:6d} MB  sum RSS {rss // mb:6d} MB  "
              f"sum PSS {pss // mb:6d} MB  processes {count}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
