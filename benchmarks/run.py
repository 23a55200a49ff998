"""The performance benchmark of issue 5: zhsearch against the jieba README's Whoosh example.

    python benchmarks/run.py /work/shared/data/cctv_news --subset 2022 [--json OUT]

Every figure is measured in the same run for both engines on identical input
and printed side by side with the ratio zhsearch / baseline: the machines are
shared and noisy, so the ratio is the figure to trust, not the absolute one.

1. Indexing: each engine indexes the whole folder into a fresh index in a
   process of its own (``workers.py index``); MB/s of report files, wall
   clock from start to committed index, index size on disk, and the peak RSS
   of the process tree (Whoosh's MpWriter forks workers).
2. Warm queries: one long-lived worker per engine runs every query of
   ``queries.txt`` (search plus highlighting of the top 10); one warm-up
   round, then ``--rounds`` rounds, alternating between the engines so that
   noise hits both. A query's latency is its median over the rounds.
3. Cold CLI: wall time of a fresh ``zhsearch search 劳模`` process (and of
   ``baseline.py search`` for the ratio), median of ``--cli-runs``.
4. Web: ``zhsearch serve`` (and the baseline behind the same WSGI server,
   waitress with 8 threads) on a free loopback port; 16 client threads
   with keep-alive connections run the query list for ``--web-seconds``;
   requests/s, p50/p99 latency and the server's peak RSS. Skipped with a
   note when the web app or its ``/api/search`` is not there.
"""

from __future__ import annotations

import argparse
import http.client
import json
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (BENCH_DIR, QUERIES, PeakTreeRSS, folder_bytes,  # noqa: E402
                    engine_version, link_subset, machine, median, percentile, read_queries, report_files)

ENGINES = ("zhsearch", "baseline")
PYTHON = sys.executable
CLI_QUERY = "劳模"
MB = 1_000_000


def zhsearch_command() -> list[str]:
    """The installed ``zhsearch`` script itself, not a version manager's shim in front of it."""
    script = Path(PYTHON).parent / "zhsearch"
    if script.is_file():
        return [str(script)]
    found = shutil.which("zhsearch")
    return [found] if found else [PYTHON, "-m", "indexer.cli"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- indexing ------------------------------------------------------------------


def measure_indexing(engine: str, corpus: Path, index_dir: Path) -> dict:
    shutil.rmtree(index_dir, ignore_errors=True)
    cmd = [PYTHON, str(BENCH_DIR / "workers.py"), "index", engine, str(corpus), str(index_dir)]
    # CPU time of every reaped descendant, forked index workers included.
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakTreeRSS(proc.pid) as memory:
        out, err = proc.communicate()
    process_seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = (cpu_after.ru_utime - cpu_before.ru_utime
                   + cpu_after.ru_stime - cpu_before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"{engine} indexing failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result.update(process_seconds=process_seconds, cpu_seconds=cpu_seconds,
                  cores_busy=cpu_seconds / process_seconds, index_bytes=folder_bytes(index_dir),
                  peak_rss=memory.peak, peak_processes=memory.peak_processes)
    return result


# -- warm queries -----------------------------------------------------------------


class QueryWorker:
    """A ``workers.py queries`` child: one line in, one JSON round of timings out."""

    def __init__(self, engine: str, corpus: Path, index_dir: Path, queries: Path):
        self.engine = engine
        self.proc = subprocess.Popen(
            [PYTHON, str(BENCH_DIR / "workers.py"), "queries", engine, str(corpus),
             str(index_dir), str(queries)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"{engine} query worker did not start: {line!r}")

    def round(self) -> list[dict]:
        self.proc.stdin.write("round\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def measure_queries(corpus: Path, indexes: dict[str, Path], rounds: int) -> dict:
    queries = read_queries(QUERIES)
    workers = {e: QueryWorker(e, corpus, indexes[e], QUERIES) for e in ENGINES}
    try:
        for worker in workers.values():
            worker.round()  # warm-up: caches, vocabulary, OS page cache
        samples: dict[str, list[list[dict]]] = {e: [] for e in ENGINES}
        for r in range(rounds):
            # Alternate which engine goes first so neither always runs after the other.
            for engine in (ENGINES if r % 2 == 0 else ENGINES[::-1]):
                samples[engine].append(workers[engine].round())
    finally:
        for worker in workers.values():
            worker.close()
    per_query = []
    for i, query in enumerate(queries):
        row = {"query": query}
        for engine in ENGINES:
            runs = [rnd[i] for rnd in samples[engine]]
            row[f"{engine}_ms"] = median([run["ms"] for run in runs])
            row[f"{engine}_hits"] = runs[-1]["hits"]
            row[f"{engine}_total"] = runs[-1]["total"]
            row[f"{engine}_error"] = runs[-1]["error"]
        per_query.append(row)
    summary = {}
    for engine in ENGINES:
        values = [row[f"{engine}_ms"] for row in per_query]
        summary[engine] = {"p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95),
                           "max_ms": max(values), "mean_ms": sum(values) / len(values)}
    slower = [row["query"] for row in per_query if row["zhsearch_ms"] > row["baseline_ms"]]
    return {"rounds": rounds, "queries": len(queries), "summary": summary,
            "slower_than_baseline": slower, "per_query": per_query}


# -- cold CLI -------------------------------------------------------------------


def measure_cli(corpus: Path, indexes: dict[str, Path], runs: int) -> dict:
    commands = {
        "zhsearch": [*zhsearch_command(), "--corpus", str(corpus), "--index",
                     str(indexes["zhsearch"]), "search", CLI_QUERY],
        "baseline": [PYTHON, str(BENCH_DIR / "baseline.py"), "search",
                     str(indexes["baseline"]), CLI_QUERY],
    }
    times: dict[str, list[float]] = {e: [] for e in ENGINES}
    failures: dict[str, str] = {}
    for _ in range(runs):
        for engine, cmd in commands.items():
            started = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True)
            times[engine].append(time.perf_counter() - started)
            if done.returncode != 0:
                failures[engine] = done.stderr[-500:]
    return {e: {"median_s": median(times[e]), "runs_s": times[e]} for e in ENGINES} | (
        {"failures": failures} if failures else {})


# -- web ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, query: str, conn: http.client.HTTPConnection | None = None,
        timeout: float = 30) -> tuple[int, bytes]:
    path = "/api/search?" + urlencode({"q": query, "limit": 10})
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


def start_server(cmd: list[str], port: int, wait: float = 120) -> tuple[subprocess.Popen | None, str]:
    """Start a server; ``(process, "")`` once /api/search answers 200, else ``(None, why)``."""
    log_file = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + wait
    why = "it did not answer in time"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log_file.seek(0)
            tail = log_file.read().decode("utf-8", "replace").strip().splitlines()[-1:]
            return None, f"the server exited ({proc.returncode}): {' / '.join(tail)}"
        try:
            status, body = get(port, CLI_QUERY, timeout=10)
        except OSError:
            time.sleep(0.2)
            continue
        if status == 200:
            return proc, ""
        why = f"/api/search answered HTTP {status}"
        if status == 404:
            break
        time.sleep(0.2)
    stop_server(proc)
    return None, why


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def load(port: int, queries: list[str], clients: int, seconds: float) -> dict:
    """``clients`` threads, each with its own keep-alive connection, for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start_line = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = n * 7  # each client starts at a different place in the list
        start_line.wait()
        while time.perf_counter() < stop_at[0]:
            query = queries[i % len(queries)]
            i += 1
            started = time.perf_counter()
            try:
                status, _ = get(port, query, conn)
            except (OSError, http.client.HTTPException):
                errors[n] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            if status == 200:
                latencies[n].append(time.perf_counter() - started)
            else:
                errors[n] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start_line.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    done = [x * 1000 for per_client in latencies for x in per_client]
    return {"requests": len(done), "errors": sum(errors), "seconds": elapsed,
            "req_per_s": len(done) / elapsed, "p50_ms": percentile(done, 50),
            "p99_ms": percentile(done, 99), "max_ms": max(done, default=float("nan"))}


def measure_web(corpus: Path, indexes: dict[str, Path], clients: int, seconds: float) -> dict:
    queries = read_queries(QUERIES)
    results: dict = {}
    for engine in ENGINES:
        port = free_port()
        if engine == "zhsearch":
            cmd = [*zhsearch_command(), "--corpus", str(corpus), "--index",
                   str(indexes[engine]), "serve", "--host", "127.0.0.1", "--port", str(port)]
        else:
            cmd = [PYTHON, str(BENCH_DIR / "baseline.py"), "serve", str(indexes[engine]),
                   "--port", str(port)]
        proc, why = start_server(cmd, port)
        if proc is None:
            results[engine] = {"skipped": why}
            continue
        try:
            with PeakTreeRSS(proc.pid, interval=0.1) as memory:
                for query in queries:  # warm-up: every query once
                    get(port, query)
                results[engine] = load(port, queries, clients, seconds)
            results[engine]["peak_rss"] = memory.peak
        finally:
            stop_server(proc)
    return results


# -- the table --------------------------------------------------------------------


def fmt(value: float | None, digits: int = 2) -> str:
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{value:,.{digits}f}"


def ratio(ours: float | None, theirs: float | None) -> str:
    if not ours or not theirs or ours != ours or theirs != theirs:
        return "–"
    return f"{ours / theirs:.2f}×"


def verdict(ok: bool | None) -> str:
    return "" if ok is None else (" ✓" if ok else " ✗")


def table(results: dict) -> str:
    """The results as a Markdown table, with the targets of issue 5."""
    rows: list[tuple[str, str, str, str, str]] = []
    ix = results["indexing"]
    z, b = ix["zhsearch"], ix["baseline"]
    rows += [
        ("indexing throughput, MB/s", fmt(z["mb_per_s"], 3), fmt(b["mb_per_s"], 3),
         ratio(z["mb_per_s"], b["mb_per_s"]),
         "≥ 2× baseline" + verdict(z["mb_per_s"] >= 2 * b["mb_per_s"])),
        ("indexing wall time, s", fmt(z["seconds"], 1), fmt(b["seconds"], 1),
         ratio(z["seconds"], b["seconds"]), ""),
        ("cores busy while indexing (CPU s / wall s)", fmt(z.get("cores_busy")),
         fmt(b.get("cores_busy")), ratio(z.get("cores_busy"), b.get("cores_busy")), ""),
        ("passages indexed", f"{z['passages']:,}", f"{b['passages']:,}", "", ""),
        ("index size on disk, MB", fmt(z["index_bytes"] / MB, 1), fmt(b["index_bytes"] / MB, 1),
         ratio(z["index_bytes"], b["index_bytes"]), ""),
        ("peak RSS of indexing (process tree), MB", fmt(z["peak_rss"] / MB, 0),
         fmt(b["peak_rss"] / MB, 0), ratio(z["peak_rss"], b["peak_rss"]), ""),
    ]
    q = results["queries"]
    zs, bs = q["summary"]["zhsearch"], q["summary"]["baseline"]
    n = q["queries"]
    rows += [
        (f"warm query p50 ({n} queries), ms", fmt(zs["p50_ms"]), fmt(bs["p50_ms"]),
         ratio(zs["p50_ms"], bs["p50_ms"]), "≤ 10 ms" + verdict(zs["p50_ms"] <= 10)),
        ("warm query p95, ms", fmt(zs["p95_ms"]), fmt(bs["p95_ms"]),
         ratio(zs["p95_ms"], bs["p95_ms"]), "≤ 50 ms" + verdict(zs["p95_ms"] <= 50)),
        ("warm query max, ms", fmt(zs["max_ms"]), fmt(bs["max_ms"]),
         ratio(zs["max_ms"], bs["max_ms"]), ""),
        ("queries slower than the baseline", f"{len(q['slower_than_baseline'])} of {n}", "", "",
         "0" + verdict(not q["slower_than_baseline"])),
    ]
    web = results.get("web", {})
    zw, bw = web.get("zhsearch", {}), web.get("baseline", {})
    if "req_per_s" in zw or "req_per_s" in bw:
        note = "" if "req_per_s" in zw else f" (zhsearch skipped: {zw.get('skipped', 'not run')})"
        rows += [
            ("web /api/search, 16 clients, req/s" + note, fmt(zw.get("req_per_s"), 1),
             fmt(bw.get("req_per_s"), 1), ratio(zw.get("req_per_s"), bw.get("req_per_s")),
             "≥ 150" + verdict(zw["req_per_s"] >= 150 if zw.get("req_per_s") else None)),
            ("web p99 latency, ms", fmt(zw.get("p99_ms"), 0), fmt(bw.get("p99_ms"), 0),
             ratio(zw.get("p99_ms"), bw.get("p99_ms")),
             "≤ 250 ms" + verdict(zw["p99_ms"] <= 250 if zw.get("p99_ms") else None)),
            ("web p50 latency, ms", fmt(zw.get("p50_ms"), 0), fmt(bw.get("p50_ms"), 0),
             ratio(zw.get("p50_ms"), bw.get("p50_ms")), ""),
            ("web requests (errors)", f"{zw.get('requests', '–')} ({zw.get('errors', '–')})",
             f"{bw.get('requests', '–')} ({bw.get('errors', '–')})", "", ""),
            ("peak RSS of the server, MB", fmt(zw.get("peak_rss", float("nan")) / MB, 0),
             fmt(bw.get("peak_rss", float("nan")) / MB, 0),
             ratio(zw.get("peak_rss"), bw.get("peak_rss")), ""),
        ]
    else:
        rows.append(("web /api/search", f"skipped: {zw.get('skipped', 'not run')}", "", "", ""))
    cli = results["cli"]
    rows.append((f"cold CLI `search {CLI_QUERY}`, s", fmt(cli["zhsearch"]["median_s"]),
                 fmt(cli["baseline"]["median_s"]),
                 ratio(cli["zhsearch"]["median_s"], cli["baseline"]["median_s"]),
                 "< 1.5 s" + verdict(cli["zhsearch"]["median_s"] < 1.5)))
    header = ("figure", "zhsearch", "baseline", "zhsearch/baseline", "target")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def slowest_table(results: dict, count: int = 5) -> str:
    per_query = sorted(results["queries"]["per_query"], key=lambda r: r["zhsearch_ms"],
                       reverse=True)[:count]
    lines = ["| slowest queries | zhsearch ms | baseline ms | ratio | zhsearch total | baseline top-10 hits |",
             "|---|---|---|---|---|---|"]
    for row in per_query:
        lines.append(f"| {row['query']} | {fmt(row['zhsearch_ms'])} | {fmt(row['baseline_ms'])} | "
                     f"{ratio(row['zhsearch_ms'], row['baseline_ms'])} | {row['zhsearch_total']} | "
                     f"{row['baseline_hits']} |")
    return "\n".join(lines)


def anomalies(results: dict) -> list[str]:
    """Queries that crashed or found nothing, and CLI failures: findings, not benchmark errors."""
    notes = []
    rows = results["queries"]["per_query"]
    for row in rows:
        for engine in ENGINES:
            if row[f"{engine}_error"]:
                notes.append(f"{engine} crashed on {row['query']!r}: {row[f'{engine}_error']}")
    for engine in ENGINES:
        other = ENGINES[1 - ENGINES.index(engine)]
        empty = [r for r in rows if not r[f"{engine}_error"] and not r[f"{engine}_hits"]]
        if empty:
            found_by_other = [r["query"] for r in empty if r[f"{other}_hits"]]
            notes.append(f"{engine} found nothing for {len(empty)} queries: "
                         + "、".join(r["query"] for r in empty)
                         + (f" (the {other} found something for: {'、'.join(found_by_other)})"
                            if found_by_other else ""))
    for engine, stderr in results["cli"].get("failures", {}).items():
        notes.append(f"{engine} CLI failed: {stderr.strip()}")
    return notes


# -- main -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="zhsearch vs the jieba README example, same run.")
    parser.add_argument("data_dir", type=Path, help="folder of report files, e.g. cctv_news")
    parser.add_argument("--subset", help="only files whose name starts with this, e.g. 2022")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds over the query list")
    parser.add_argument("--cli-runs", type=int, default=5)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--web-seconds", type=float, default=20.0)
    parser.add_argument("--skip-web", action="store_true")
    parser.add_argument("--workdir", type=Path,
                        help="keep the indexes here instead of a temporary folder")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="zhsearch-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.subset:
            corpus = work / "corpus"
            shutil.rmtree(corpus, ignore_errors=True)
            link_subset(args.data_dir, f"{args.subset}*", corpus)
        else:
            corpus = args.data_dir.resolve()
        files = report_files(corpus)
        corpus_bytes = sum(path.stat().st_size for _, path in files)
        results: dict = {
            "machine": machine(),
            "engine": engine_version(),
            "command": " ".join(["python", *sys.argv]),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "corpus": {"files": len(files), "bytes": corpus_bytes},
        }
        indexes = {e: work / f"index-{e}" for e in ENGINES}
        results["indexing"] = {}
        for engine in ENGINES:
            log(f"indexing {len(files)} files, {corpus_bytes / MB:.1f} MB, with {engine}")
            measured = measure_indexing(engine, corpus, indexes[engine])
            measured["mb_per_s"] = corpus_bytes / MB / measured["seconds"]
            results["indexing"][engine] = measured
            log(f"  {measured['seconds']:.1f} s, {measured['mb_per_s']:.3f} MB/s")
        log(f"warm queries, {args.rounds} rounds")
        results["queries"] = measure_queries(corpus, indexes, args.rounds)
        log("cold CLI")
        results["cli"] = measure_cli(corpus, indexes, args.cli_runs)
        if args.skip_web:
            results["web"] = {"zhsearch": {"skipped": "--skip-web"}}
        else:
            log(f"web, {args.clients} clients for {args.web_seconds:.0f} s per engine")
            results["web"] = measure_web(corpus, indexes, args.clients, args.web_seconds)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    results["corpus"]["passages"] = results["indexing"]["zhsearch"]["passages"]
    if engine_version() != results["engine"]:  # the lead commits while we measure
        results["engine"] += f" (changed to {engine_version()} during the run)"
    print(f"machine: {results['machine']}; zhsearch at {results['engine']}")
    print(f"corpus: {results['corpus']['files']} files, {corpus_bytes / MB:.1f} MB, "
          f"{results['corpus']['passages']:,} passages; {results['command']}")
    print()
    print(table(results))
    print()
    print(slowest_table(results))
    notes = anomalies(results)
    if notes:
        print()
        print("\n".join(f"- {note}" for note in notes))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
