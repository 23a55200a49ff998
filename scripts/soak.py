"""Soak run: minutes of searches, uploads and hostile files against a running server.

    python scripts/soak.py [--seconds 300] [--searchers 8] [--uploaders 4]
                           [--hostile-every 60] [--json out.json] [--log-dir DIR]

Starts ``zhsearch serve`` on a free loopback port over a temporary copy of
the bundled corpus. Searcher threads query ``/api/search`` without pause;
uploader threads upload reports through the real form (CSRF token and all),
each carrying a unique marker; every ``--hostile-every`` seconds one hostile
file of issue 13 is uploaded (quadratic Markdown, a lone-surrogate page, a
PDF of 200,000 text operators, a docx and a PDF of compressed spaces, an HTML
page of 1 M paragraphs, an 18 MB one-line text), which must be refused or
read without a response >= 500. At the end every uploaded report must be
found exactly once by its marker, and ``zhsearch check`` must pass. Prints
(and with ``--json`` writes) the figures: requests, responses >= 500, other
errors, uploads lost, hostile files and what became of them, latencies.
A run that fails keeps the server's log (its tracebacks) in ``--log-dir``.
Only loopback is ever contacted; the run stops by itself.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.documents import docx_body, docx_bytes, pdf_bytes  # noqa: E402

QUERIES = ["劳模", "爱心托管", "工人文化宫", "黎贤花", "职代会", "宫", "贤花", "总工会 服务",
           '"爱心托管服务"', "劳模 -宣讲", "产改", "高新区总工会筹集了多少爱心助学款？",
           "<script>", "((", "劳摸", "压力测试 工会"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- hostile files (issue 13), built by tests.documents -------------------------------


def hostile_files() -> list[tuple[str, bytes]]:
    return [
        ("hostile-emphasis.md", ("*a " * 40_000).encode()),
        ("hostile-surrogate.html", b'<meta charset="unicode_escape"><p>\\ud800 \xe6\x8a\xa5</p>'),
        ("hostile-utf7.html", b'<meta charset="utf-7"><p>+2AA- report</p>'),
        ("hostile-operators.pdf", pdf_bytes([b"BT /F1 1 Tf 10 10 Td " + b"(a) Tj " * 200_000 + b"ET"])),
        ("hostile-whitespace.pdf", pdf_bytes([b"BT ET " + b" " * 100_000_000])),
        ("hostile-whitespace.docx", docx_bytes(docx_body(b" " * 100_000_000))),
        ("hostile-paragraphs.html", b"<body>" + b"<p>a</p>" * 1_000_000 + b"</body>"),
        ("hostile-oneline.txt", ("字" * 6_000_000).encode()),
        ("hostile-sentence-ends.md", ("。" * 40_000 + "x").encode()),
    ]


# -- the client ---------------------------------------------------------------------


class Client:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def search(self, query: str, **params: str) -> tuple[int, dict | None]:
        status, body = self.get("/api/search?" + urllib.parse.urlencode(
            {"q": query, "limit": 10, **params}))
        return status, json.loads(body) if status == 200 else None

    def upload(self, name: str, data: bytes) -> tuple[int, str]:
        """POST the upload form as a browser would; the status and the page."""
        status, page = self.get("/upload")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if status != 200 or not token:
            return status, "no upload form"
        boundary = uuid.uuid4().hex
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{token.group(1).decode()}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + (
            f"\r\n--{boundary}--\r\n").encode()
        request = urllib.request.Request(
            self.base + "/upload", data=body, method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                     "Origin": self.base})
        try:
            with self.opener.open(request, timeout=300) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="how long to run")
    parser.add_argument("--searchers", type=int, default=8, help="searching client threads")
    parser.add_argument("--uploaders", type=int, default=4, help="uploading client threads")
    parser.add_argument("--hostile-every", type=float, default=60.0,
                        help="seconds between hostile uploads (0: none)")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    parser.add_argument("--log-dir", type=Path, default=Path(tempfile.gettempdir()),
                        help="where the server's log is kept when the run failed "
                             "(a response >= 500, a lost upload, a failed check)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="zhsearch-soak-"))
    shutil.copytree(ROOT / "corpus", work / "corpus")
    port = free_port()
    # The server's log goes to a file: a pipe nobody reads fills up and then
    # blocks every thread that logs.
    log = (work / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "indexer.cli", "--corpus", str(work / "corpus"),
         "--index", str(work / "index"), "serve", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    ok = False
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if Client(base).get("/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("the server did not come up")

        counts: Counter[str] = Counter()
        server_errors: list[str] = []  # responses >= 500
        errors: list[str] = []  # anything else that went wrong
        uploaded: list[str] = []
        hostile: list[dict] = []
        search_ms: list[float] = []
        upload_ms: list[float] = []
        lock = threading.Lock()
        started = time.monotonic()
        stop_at = started + args.seconds

        def searcher(seed: int) -> None:
            rng = random.Random(seed)
            client = Client(base)
            while time.monotonic() < stop_at:
                query = rng.choice(QUERIES)
                began = time.perf_counter()
                try:
                    status, _ = client.search(query)
                except (OSError, ValueError) as error:
                    status, detail = 0, repr(error)
                else:
                    detail = f"search {query!r}: HTTP {status}"
                with lock:
                    counts["search"] += 1
                    search_ms.append((time.perf_counter() - began) * 1000)
                    if status >= 500:
                        server_errors.append(detail)
                    elif status != 200:
                        errors.append(detail)

        def uploader(seed: int) -> None:
            client = Client(base)
            while time.monotonic() < stop_at:
                marker = f"浸泡{uuid.uuid4().hex[:8]}号"
                began = time.perf_counter()
                try:
                    status, page = client.upload(
                        f"soak-{marker}.txt",
                        f"压力测试报告，标记{marker}在此。\n工会劳模座谈。\n".encode())
                except OSError as error:
                    status, page = 0, repr(error)
                with lock:
                    counts["upload"] += 1
                    upload_ms.append((time.perf_counter() - began) * 1000)
                    if status == 200 and "已添加" in page:
                        uploaded.append(marker)
                    elif status >= 500:
                        server_errors.append(f"upload {marker}: HTTP {status}")
                    else:
                        errors.append(f"upload {marker}: HTTP {status}")

        def attacker() -> None:
            client = Client(base)
            files = hostile_files()
            for number, (name, data) in enumerate(files * 100):
                at = started + (number + 0.5) * args.hostile_every
                if at >= stop_at:
                    return
                time.sleep(max(0.0, at - time.monotonic()))
                began = time.perf_counter()
                try:
                    status, page = client.upload(name, data)
                except OSError as error:
                    status, page = 0, repr(error)
                row = re.search(r'<td class="status">([^<]*)</td>\s*<td class="detail">(.*?)</td>',
                                page, re.S)
                outcome = {"file": name, "bytes": len(data), "status": status,
                           "result": row.group(1) if row else None,
                           "detail": row.group(2).strip() if row else None,
                           "seconds": round(time.perf_counter() - began, 2)}
                with lock:
                    counts["hostile"] += 1
                    hostile.append(outcome)
                    if status >= 500 or status == 0:
                        server_errors.append(f"hostile {name}: HTTP {status}")

        threads = [threading.Thread(target=searcher, args=(n,)) for n in range(args.searchers)]
        threads += [threading.Thread(target=uploader, args=(n,)) for n in range(args.uploaders)]
        if args.hostile_every > 0:
            threads.append(threading.Thread(target=attacker))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        time.sleep(1.2)  # past the searchers' refresh interval
        client = Client(base)
        lost = []
        for marker in uploaded:
            # One article holds it: the upload's text, and its file name as
            # its title (a report without a title line is named by its file).
            status, result = client.search(f'"{marker}"', group="article")
            if status != 200 or result is None or result["total"] != 1:
                lost.append(marker)
        check = subprocess.run(
            [sys.executable, "-m", "indexer.cli", "--corpus", str(work / "corpus"),
             "--index", str(work / "index"), "check"], capture_output=True, text=True, cwd=ROOT)
        search_ms.sort()
        upload_ms.sort()

        def quantile(values: list[float], q: float) -> float | None:
            return round(values[min(len(values) - 1, int(len(values) * q))], 1) if values else None

        summary = {
            "seconds": args.seconds, "searchers": args.searchers, "uploaders": args.uploaders,
            "requests": sum(counts.values()), "searches": counts["search"],
            "uploads": counts["upload"], "hostile_uploads": counts["hostile"],
            "responses_500_or_more": len(server_errors), "other_errors": len(errors),
            "error_examples": sorted(set(server_errors + errors))[:5],
            "uploads_added": len(uploaded), "uploads_lost": len(lost),
            "check": (check.stdout.strip().splitlines()[-1:] or [check.stderr.strip()])[0],
            "check_ok": check.returncode == 0,
            "search_p50_ms": quantile(search_ms, 0.5), "search_p99_ms": quantile(search_ms, 0.99),
            "search_max_ms": quantile(search_ms, 1.0),
            "searches_over_1s": sum(1 for ms in search_ms if ms >= 1000),
            "upload_p50_ms": quantile(upload_ms, 0.5), "upload_max_ms": quantile(upload_ms, 1.0),
            "hostile": hostile,
        }
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        if args.json:
            args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        ok = not server_errors and not errors and not lost and check.returncode == 0
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        if not ok:
            # The traceback of a 5xx is in the server's log: it was deleted
            # with the run's folder, and the rare 503 of issue 19 could only
            # be guessed at.
            kept = args.log_dir / f"{work.name}-server.log"
            try:
                shutil.copyfile(work / "server.log", kept)
                print(f"soak: the run failed; the server's log is kept in {kept}", file=sys.stderr)
            except OSError as error:
                print(f"soak: cannot keep the server's log in {kept}: {error}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
