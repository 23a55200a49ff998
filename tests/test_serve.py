"""`zhsearch serve` as a real process: a worker per core, one behaviour.

The server runs under gunicorn with one worker process per core; whichever
worker answers, a search gives the same result, a form served by one worker
can be posted to another, and an uploaded file is found on the next request.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest

from web import prefork

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not prefork.available(), reason="gunicorn runs on Unix only")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(port: int, method: str, path: str, body: bytes | None = None,
             headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _listening_inode(port: int) -> str:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":  # LISTEN
            return fields[9]
    raise AssertionError(f"nothing listens on {port}")


def _workers(pid: int, port: int) -> list[int]:
    """The server's children that hold its listening socket: its workers
    (not the process that reads report files, which it started before)."""
    socket_link = f"socket:[{_listening_inode(port)}]"
    found = []
    for child in _children(pid):
        try:
            links = {os.readlink(f"/proc/{child}/fd/{fd}") for fd in os.listdir(f"/proc/{child}/fd")}
        except OSError:
            continue
        if socket_link in links:
            found.append(child)
    return found


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


@contextlib.contextmanager
def _serving(corpus_dir: Path, index_dir: Path, **env: str):
    """``zhsearch serve`` on a free loopback port, with ``env`` added to its
    environment, once it answers a search; stopped by Ctrl+C afterwards."""
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), **env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "indexer.cli", "--corpus", str(corpus_dir), "--index", str(index_dir),
         "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read().decode("utf-8", "replace")
            try:
                if _request(port, "GET", "/api/search?" + urlencode({"q": "劳模"}))[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not answer"
            time.sleep(0.2)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise


@pytest.fixture
def server(corpus_dir, index_dir):
    with _serving(corpus_dir, index_dir) as running:
        yield running


def _search(port: int, query: str) -> dict:
    status, _, data = _request(port, "GET", "/api/search?" + urlencode({"q": query}))
    assert status == 200
    result = json.loads(data)
    result.pop("took_ms")
    return result


def test_a_worker_per_core_answering_alike(server):
    proc, port = server
    # Workers start one after the other: wait until all of them are up.
    deadline = time.monotonic() + 60
    while len(_workers(proc.pid, port)) < prefork.cores():
        assert time.monotonic() < deadline, "not every worker started"
        time.sleep(0.2)
    assert len(_workers(proc.pid, port)) == prefork.cores()
    expected = _search(port, "劳模")
    assert expected["total"] > 0
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: _search(port, "劳模"), range(64)))
    assert all(r == expected for r in results)


def _multipart(fields: dict[str, str], name: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                 f'filename="{name}"\r\nContent-Type: text/plain\r\n\r\n'.encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _form(port: int) -> tuple[str, str]:
    """The upload form's CSRF token and the session cookie it goes with."""
    status, headers, page = _request(port, "GET", "/upload")
    assert status == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.decode()).group(1)
    return token, headers["Set-Cookie"].split(";", 1)[0]


def _upload(port: int, form: tuple[str, str], name: str, text: str) -> tuple[int, str]:
    """Posts one file with ``form`` (from :func:`_form`): the status and the page."""
    token, cookie = form
    body, content_type = _multipart({"csrf_token": token}, name, text.encode())
    status, _, page = _request(port, "POST", "/upload", body,
                               {"Content-Type": content_type, "Cookie": cookie})
    return status, page.decode("utf-8", "replace")


def test_a_form_from_one_worker_posts_to_another_and_is_found_at_once(server):
    _, port = server
    for i in range(6):  # each request on its own connection: any worker may answer
        word = f"bluewhale{i}x{uuid.uuid4().hex[:6]}"
        status, page = _upload(port, _form(port), f"报告{i}.txt", f"新报告提到{word}。\n")
        assert status == 200, page[:300]
        assert "已添加" in page
        assert _search(port, word)["total"] == 1


def test_a_form_stays_valid_across_restarts_with_the_same_secret_key(corpus_dir, index_dir):
    # README: "Set ZHSEARCH_SECRET_KEY to keep upload forms valid across
    # restarts". Under gunicorn every start used a fresh random key instead.
    from indexer.messages import ZH

    word = f"bluewhale{uuid.uuid4().hex[:6]}"
    with _serving(corpus_dir, index_dir, ZHSEARCH_SECRET_KEY="first key") as (_, port):
        form = _form(port)
    # Another key: the form is refused, as any forged one (the check is real).
    with _serving(corpus_dir, index_dir, ZHSEARCH_SECRET_KEY="another key") as (_, port):
        status, page = _upload(port, form, "报告.txt", f"新报告提到{word}。\n")
        assert status == 400 and ZH.text("form_expired") in page, page[:300]
        assert _search(port, word)["total"] == 0
    # The first key again: the form served before both restarts is accepted.
    with _serving(corpus_dir, index_dir, ZHSEARCH_SECRET_KEY="first key") as (_, port):
        status, page = _upload(port, form, "报告.txt", f"新报告提到{word}。\n")
        assert status == 200, page[:300]
        assert "已添加" in page
        assert _search(port, word)["total"] == 1


def test_ctrl_c_stops_every_worker(server):
    proc, port = server
    workers = _children(proc.pid)
    assert len(workers) >= prefork.cores()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


class _SlowClients:
    """``count`` connections to ``port`` that each send ``opening`` and then
    one more line every second, never finishing their request (slowloris)."""

    def __init__(self, port: int, count: int, opening: bytes, line: bytes):
        self.sockets = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(opening)
            self.sockets.append(sock)
        self.line = line
        self.running = True
        self.sent = 0

    def trickle(self) -> None:
        while self.running:
            for sock in self.sockets:
                try:
                    sock.sendall(self.line)
                    self.sent += 1
                except OSError:
                    pass
            time.sleep(1.0)

    def close(self) -> None:
        self.running = False
        for sock in self.sockets:
            sock.close()


def _probe(port: int, seconds: float) -> float | None:
    """Seconds a search took, or None when it did not answer within ``seconds``."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds)
    try:
        conn.request("GET", "/api/search?" + urlencode({"q": "劳模"}))
        response = conn.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["total"] > 0
        return time.monotonic() - started
    except (TimeoutError, socket.timeout):
        return None
    finally:
        conn.close()


def _search_answers_despite(port: int, clients: _SlowClients) -> list[float | None]:
    """Probes while ``clients`` hold their connections open and keep sending.

    gunicorn's gthread workers read a request in a worker thread: 8 such
    connections held every thread, and no search was answered for as long
    as they kept sending (30 s in the audit). A server that buffers a request
    before it hands it to a thread answers at once. The bound is 1 s a probe,
    three probes: a guard against that stall, not a speed measurement.
    """
    import threading

    trickler = threading.Thread(target=clients.trickle, daemon=True)
    trickler.start()
    try:
        time.sleep(2.5)  # every slow connection has been accepted and is sending
        probes = []
        for _ in range(3):
            took = _probe(port, 1.0)
            probes.append(took)
            if took is not None:
                break
        return probes
    finally:
        clients.close()
        trickler.join(timeout=10)


def test_slow_header_senders_do_not_stall_searches(server):
    _, port = server
    clients = _SlowClients(port, 200, b"GET /api/search?q=x HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                           b"X-Slow: 1\r\n")
    probes = _search_answers_despite(port, clients)
    assert probes[-1] is not None, f"no search answered within 1 s while 200 clients sent headers slowly: {probes}"
    # Still serving afterwards, every worker alive.
    assert _search(port, "劳模")["total"] > 0


def test_slow_upload_bodies_do_not_stall_searches(server):
    _, port = server
    boundary = uuid.uuid4().hex
    head = (f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: 1000000\r\n\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n').encode()
    clients = _SlowClients(port, 64, head, "劳模".encode() * 10)
    probes = _search_answers_despite(port, clients)
    assert probes[-1] is not None, f"no search answered within 1 s while 64 uploads sent slowly: {probes}"
    assert _search(port, "劳模")["total"] > 0


def test_long_urls_are_answered_by_the_api_in_json(server):
    # gunicorn answered a URL past 8 KB with its own HTML 414; 1,000 Chinese
    # characters, the longest query searched, are 9 KB percent-encoded.
    _, port = server
    status, headers, data = _request(port, "GET", "/api/search?" + urlencode({"q": "劳模" * 600}))
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(data)["query_truncated"] is True
    # Past waitress's 256 KB of request line and headers: its refusal, as the API's JSON error.
    status, headers, data = _request(port, "GET", "/api/search?" + urlencode({"q": "劳" * 30_000}))
    assert status == 431 and headers["Content-Type"] == "application/json"
    assert json.loads(data)["status"] == 431
