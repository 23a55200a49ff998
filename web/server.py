"""Serving the app with waitress, in one process or in each gunicorn worker.

``zhsearch serve`` runs gunicorn with one worker process per core where it
can (:mod:`web.prefork`), waitress in one process elsewhere and in tests
(:mod:`web.launch` chooses). This module imports neither.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Flask

from indexer.messages import TEXTS, ZH
from indexer.store import Store
from web import create_app


def make_app(store: Store, config: Mapping[str, Any] | None = None):
    """The app over ``store``."""
    return create_app(config, store=store)


# How long a client may take to send a request's headers, whole, and how long
# a connection may stay silent (while sending a body, or idle between
# requests): nginx's client_header_timeout and client_body_timeout. A request
# is read by waitress's event loop into a buffer (a body past 512 KB into a
# temporary file) and reaches a thread only once complete, so a slow client
# costs a buffer, never a thread: with gunicorn's gthread workers 8 clients
# sending a header line every 2 s held all 8 threads and no search was
# answered for 30 s (issue 19).
HEADER_SECONDS = 30
IDLE_SECONDS = 60
# Connections one process keeps open at once, slow ones included (waitress's
# default is 100; each costs a file descriptor and a buffer). Past it the
# process stops accepting until one closes; poll(), unlike select(), has no
# 1,024-descriptor ceiling.
CONNECTION_LIMIT = 1000
# The longest request line and headers together (a URL of up to ~256 KB: a
# query is searched up to 1,000 characters, 9 KB percent-encoded, and the
# app says when it cut one). A longer request is refused by waitress itself,
# 431, in the app's manner: JSON under /api/, a Chinese page elsewhere
# (gunicorn answered URLs past 8 KB with its own HTML 414, even under /api/).
MAX_HEADER_BYTES = 256 * 1024
# A thread's answer waits in its buffer until the answer is complete or this
# long, and waitress's event loop sends it (waitress's default, 1 byte, makes
# the thread send every write itself: headers and body apart, each send()
# giving up the GIL the thread then waits to win back from the other
# threads' searches). /api/search answers 0.2-15 KB. A/B on the 2022 subset,
# 16 keep-alive clients, alternated, 4 rounds: 252, 431, 371, 503 req/s
# against 192, 169, 182, 236 (gthread: 196, 369, 326, 516); CPU per request
# 2.6-3.7 ms against 3.7-4.5.
SEND_BYTES = 256 * 1024

_ERROR_PAGE = ("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">"
               "<title>{code} - zhsearch</title><h1>{code}</h1><p>{message}</p>"
               "<p><a href=\"/\">{home}</a></p></html>")


def server_error_response(code: int, api: bool) -> tuple[str, bytes]:
    """The content type and body of waitress's own refusal ``code``: the
    API's JSON error under /api/, a Chinese page elsewhere.

    >>> content_type, body = server_error_response(431, api=True)
    >>> content_type, json.loads(body)["status"], json.loads(body)["error"][:8]
    ('application/json', 431, '网址或请求头太长')
    """
    # waitress's own refusals (a request it cannot parse or that passes its
    # bounds), in the catalogue's Chinese.
    key = f"server {code}"
    message = ZH.text(key, kb=MAX_HEADER_BYTES // 1024) if key in TEXTS else ZH.text("http")
    if api:
        return ("application/json",
                json.dumps({"error": message, "status": code}, ensure_ascii=False).encode())
    return "text/html; charset=utf-8", _ERROR_PAGE.format(code=code, message=message,
                                                         home=ZH.text("back home")).encode()


def _waitress_classes(header_seconds: int) -> tuple[type, type]:
    """waitress's TCP server with a bound on the time a request's headers
    take to arrive (waitress itself only closes connections that fall silent)."""
    from waitress.channel import HTTPChannel
    from waitress.parser import HTTPRequestParser
    from waitress.server import TcpWSGIServer
    from waitress.task import ErrorTask

    class TimedParser(HTTPRequestParser):
        api: bool | None = None  # whether the request line names /api/…

        def __init__(self, adj: Any):
            super().__init__(adj)
            self.started = time.monotonic()

        def received(self, data: bytes) -> int:
            if self.api is None:
                # Noted before the headers are complete: past the header
                # bound waitress forgets the request line.
                head = self.header_plus[:64] + data[:64]
                space = head.find(b" ")
                if 0 <= space and len(head) >= space + 6:
                    self.api = head[space + 1:space + 6] == b"/api/"
            return super().received(data)

    class ZhErrorTask(ErrorTask):
        def execute(self) -> None:
            error = self.request.error
            content_type, body = server_error_response(error.code, bool(self.request.api))
            self.status = f"{error.code} {error.reason}"
            self.response_headers.append(("Content-Type", content_type))
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class TimedChannel(HTTPChannel):
        parser_class = TimedParser
        error_task_class = ZhErrorTask

    class Server(TcpWSGIServer):
        channel_class = TimedChannel

        def maintenance(self, now: float) -> None:
            super().maintenance(now)
            cutoff = time.monotonic() - header_seconds
            for channel in list(self.active_channels.values()):
                request = channel.request
                if request is not None and not request.headers_finished \
                        and request.started < cutoff:
                    channel.will_close = True

    return Server, TimedChannel


def make_server(store: Store, host: str = "127.0.0.1", port: int = 5000, threads: int = 8,
                config: Mapping[str, Any] | None = None):
    """A waitress server for the app over ``store``; ``port=0`` picks a free port."""
    app = make_app(store, config)
    app.config["HOST"] = host
    return waitress_server(app, threads=threads, host=host, port=port)


def waitress_server(app: Flask, threads: int, *, host: str = "127.0.0.1", port: int = 0,
                    sockets: Sequence[socket.socket] = (),
                    header_seconds: int = HEADER_SECONDS, idle_seconds: int = IDLE_SECONDS,
                    cleanup_seconds: int = 5):
    """waitress serving ``app`` on ``host:port``, or on the listening
    ``sockets`` (a gunicorn worker's, shared with the other workers), all
    in one event loop with one pool of ``threads`` threads."""
    from waitress.adjustments import Adjustments

    # waitress warns "Task queue depth is N" whenever a request waits for a
    # thread: under load, most requests (4,000 lines a minute in the soak).
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    adj = Adjustments(
        host=host, port=port, threads=threads, ident="zhsearch",
        # waitress would buffer up to 1 GB; past twice the upload limit it
        # answers 413 itself, below that the app answers with its own page.
        max_request_body_size=2 * app.config["MAX_CONTENT_LENGTH"],
        max_request_header_size=MAX_HEADER_BYTES,
        connection_limit=CONNECTION_LIMIT, asyncore_use_poll=True,
        channel_timeout=idle_seconds, cleanup_interval=cleanup_seconds)
    # Set after construction: as an argument waitress 3.0 warns that it may
    # drop the setting (without it, threads send at once again).
    adj.send_bytes = SEND_BYTES
    server_class, _ = _waitress_classes(header_seconds)
    if not sockets:
        return server_class(app, adj=adj)
    from waitress.task import ThreadedTaskDispatcher

    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(threads)
    shared: dict = {}  # the socket map of the one event loop
    servers = [server_class(app, shared, True, sock, dispatcher=dispatcher, adj=adj,
                            bind_socket=False,
                            sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()))
               for sock in sockets]
    return servers[0]  # its run() serves every socket of the map

