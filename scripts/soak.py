"""Soak run: minutes of mixed searches and uploads against a running server.

    python scripts/soak.py [--seconds 180] [--clients 8] [--max-requests 20000]

Starts ``zhsearch serve`` on a free loopback port over a temporary copy of
the bundled corpus, then lets client threads search and upload (through the
real form, with its CSRF token) until the time or the request budget runs
out. At the end every uploaded report must be searchable, exactly once, and
``zhsearch check`` must pass. Prints requests made, errors and passages lost.
Only loopback is ever contacted; the run stops by itself.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
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
QUERIES = ["劳模", "爱心托管", "工人文化宫", "黎贤花", "职代会", "宫", "贤花", "总工会 服务",
           '"爱心托管服务"', "劳模 -宣讲", "产改", "高新区总工会筹集了多少爱心助学款？",
           "<script>", "((", "劳摸"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def search(self, query: str) -> dict:
        status, body = self.get("/api/search?" + urllib.parse.urlencode({"q": query, "limit": 10}))
        if status != 200:
            raise RuntimeError(f"search {query!r}: HTTP {status}")
        return json.loads(body)

    def upload(self, name: str, text: str) -> str:
        status, page = self.get("/upload")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if status != 200 or not token:
            raise RuntimeError(f"upload form: HTTP {status}")
        boundary = uuid.uuid4().hex
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{token.group(1).decode()}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n{text}\r\n--{boundary}--\r\n"
        ).encode("utf-8")
        request = urllib.request.Request(
            self.base + "/upload", data=body, method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            with self.opener.open(request, timeout=120) as response:
                page = response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"upload {name}: HTTP {error.code}") from None
        if "已添加" not in page:
            raise RuntimeError(f"upload {name}: not added")
        return name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="how long to run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--max-requests", type=int, default=20000, help="request budget")
    parser.add_argument("--upload-share", type=float, default=0.05,
                        help="share of actions that are uploads")
    parser.add_argument("--json", type=Path, help="also write the summary here")
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
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if Client(base).get("/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("the server did not come up")

        counts: Counter[str] = Counter()
        errors: list[str] = []
        uploaded: list[str] = []
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds
        latencies: list[float] = []

        def worker(seed: int) -> None:
            rng = random.Random(seed)
            client = Client(base)
            while time.monotonic() < stop_at:
                with lock:
                    if sum(counts.values()) >= args.max_requests:
                        return
                started = time.perf_counter()
                action = "upload" if rng.random() < args.upload_share else "search"
                try:
                    if action == "upload":
                        marker = f"浸泡{uuid.uuid4().hex[:8]}号"
                        client.upload(f"soak-{marker}.txt", f"压力测试报告，标记{marker}在此。\n工会劳模座谈。")
                        kind = "upload"
                        with lock:
                            uploaded.append(marker)
                    else:
                        client.search(rng.choice(QUERIES))
                        kind = "search"
                except (RuntimeError, OSError, ValueError) as error:
                    kind = "error"
                    with lock:
                        errors.append(f"{action}: {error}")
                        if len(errors) == 1 and os.environ.get("SOAK_SPY"):
                            subprocess.run(["py-spy", "dump", "--pid", str(server.pid)],
                                           stdout=open(os.environ["SOAK_SPY"], "w"))
                with lock:
                    counts[kind] += 1
                    latencies.append(time.perf_counter() - started)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        time.sleep(1.2)  # past the searchers' refresh interval
        client = Client(base)
        lost = []
        for marker in uploaded:
            try:
                if client.search(f'"{marker}"')["total"] != 1:
                    lost.append(marker)
            except (RuntimeError, OSError) as error:
                errors.append(f"verify: {error}")
                lost.append(marker)
                if os.environ.get("SOAK_SPY"):
                    subprocess.run(["py-spy", "dump", "--pid", str(server.pid)],
                                   stdout=open(os.environ["SOAK_SPY"], "w"))
        check = subprocess.run(
            [sys.executable, "-m", "indexer.cli", "--corpus", str(work / "corpus"),
             "--index", str(work / "index"), "check"], capture_output=True, text=True)
        latencies.sort()
        summary = {
            "seconds": args.seconds, "clients": args.clients,
            "requests": sum(counts.values()), "searches": counts["search"],
            "uploads": counts["upload"], "errors": len(errors),
            "error_examples": sorted(set(errors))[:5],
            "uploaded_reports_not_found_once": len(lost),
            "check": check.stdout.strip().splitlines()[-1:] or [check.stderr.strip()],
            "check_ok": check.returncode == 0,
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
            "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else None,
        }
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        if args.json:
            args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        return 0 if not errors and not lost and check.returncode == 0 else 1
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
