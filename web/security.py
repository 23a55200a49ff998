"""Checks on every request before it reaches a view: Host, Origin, form encoding.

- **Host**: a page on another site can make a browser send requests to
  ``127.0.0.1`` under a host name of its own (DNS rebinding); with
  ``Host: rebind.attacker.example`` the upload form worked (issue 13). The
  Host header must name the address the server listens on (a loopback
  server: ``localhost`` or a loopback address), or a name listed in
  ``ZHSEARCH_ALLOWED_HOSTS`` (comma-separated; ``.example.org`` allows its
  subdomains too).
- **Origin**: a POST whose ``Origin`` is another site (or ``null``) is
  refused, whatever its CSRF token.
- **Form encoding**: a multipart file name in GBK bytes made Werkzeug drop
  the whole form silently ("表单已失效"); part headers that are not UTF-8 are
  read as GB18030 instead.
- **Writing** (an upload, a deletion): open on a loopback server, behind the
  token of ``ZHSEARCH_UPLOAD_TOKEN`` once one is set, closed otherwise
  (:func:`upload_state`, :func:`token_ok`).
- **Headers** every response carries (:func:`security_headers`).
"""

from __future__ import annotations

import hmac
import io
import ipaddress
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, request

from indexer.messages import ZH

# How many files one upload form may carry (Werkzeug's own limit of 1,000
# form parts was answered "一次最多上传 20 MB").
MAX_UPLOAD_FILES = 1000
# Form parts besides the files: the CSRF token, the upload token.
_OTHER_PARTS = 10


def split_host(host: str) -> str:
    """The host name or address of a Host header, without its port.

    >>> split_host("127.0.0.1:5000"), split_host("[::1]:80"), split_host("Example.ORG.")
    ('127.0.0.1', '::1', 'example.org')
    """
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def host_allowed(host: str, bound: str, allowed: Iterable[str] = ()) -> bool:
    """Whether a request's Host header may reach a server listening on ``bound``.

    >>> host_allowed("127.0.0.1:5000", "127.0.0.1"), host_allowed("localhost", "127.0.0.1")
    (True, True)
    >>> host_allowed("rebind.attacker.example", "127.0.0.1")
    False
    >>> host_allowed("search.example.org", "0.0.0.0", [".example.org"])
    True
    """
    name = split_host(host)
    if not name:
        return False
    for pattern in allowed:
        if name == pattern.lstrip(".") or (pattern.startswith(".") and name.endswith(pattern)):
            return True
    bound_name = split_host(bound)
    if name == bound_name:
        return True
    bound_address, address = _address(bound_name), _address(name)
    loopback_name = is_loopback(name)
    if is_loopback(bound_name):
        return loopback_name
    if bound_address is not None and bound_address.is_unspecified:
        # Listening everywhere: an address typed by hand is no rebinding (that
        # needs a name); names must be listed.
        return loopback_name or address is not None
    return loopback_name


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address the server listens on) is this machine only.

    >>> is_loopback("127.0.0.1"), is_loopback("[::1]"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name could resolve anywhere


def upload_state() -> str:
    """``token`` when an upload token is configured (then it is always asked for),
    ``open`` on a loopback-only server, ``closed`` otherwise: the rule of
    every page that writes (upload, delete)."""
    if current_app.config.get("UPLOAD_TOKEN"):
        return "token"
    return "open" if is_loopback(current_app.config["HOST"]) else "closed"


def token_ok(given: str) -> bool:
    """Whether ``given`` is the configured upload token (compared in constant time)."""
    expected = current_app.config["UPLOAD_TOKEN"]
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def security_headers(response: Response) -> Response:
    # The pages use no script and no inline style: a strict policy costs
    # nothing and stops any markup that slipped through from running.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'none'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def check_request() -> None:
    """Refuse a request whose Host or (for a POST) Origin is not this server's."""
    config = current_app.config
    allowed = config.get("ALLOWED_HOSTS") or ()
    if not host_allowed(request.host, config["HOST"], allowed):
        abort(400, ZH.text("host_not_allowed"))
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        origin = request.headers.get("Origin")
        # Same origin only: another port of this host is another site too.
        if origin is not None and urlsplit(origin).netloc.lower() != request.host.lower():
            abort(403, ZH.text("cross_site"))


class MultipartHeaderFix:
    """WSGI middleware: multipart part headers that are not UTF-8 are read as GB18030.

    Only a multipart POST within the upload limit is looked at; its body is
    already bounded (``MAX_CONTENT_LENGTH``), and it is rewritten only when a
    part header is not UTF-8.
    """

    def __init__(self, app: Callable, max_bytes: Callable[[], int]):
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        content_type = environ.get("CONTENT_TYPE", "")
        if environ.get("REQUEST_METHOD") == "POST" and content_type.startswith(
                "multipart/form-data") and "boundary=" in content_type:
            try:
                length = int(environ.get("CONTENT_LENGTH") or -1)
            except ValueError:
                length = -1
            if 0 <= length <= self.max_bytes():
                body = environ["wsgi.input"].read(length)
                boundary = content_type.split("boundary=", 1)[1].split(";")[0].strip().strip('"')
                body = fix_part_headers(body, boundary.encode("latin-1", "replace"))
                environ["wsgi.input"] = io.BytesIO(body)
                environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def fix_part_headers(body: bytes, boundary: bytes) -> bytes:
    """``body`` with every part header that is not UTF-8 decoded as GB18030.

    >>> fix_part_headers(b'--b\\r\\nX: "\\xb1\\xa8"\\r\\n\\r\\ndata\\r\\n--b--', b"b").decode()
    '--b\\r\\nX: "报"\\r\\n\\r\\ndata\\r\\n--b--'
    """
    delimiter = b"--" + boundary
    pieces = body.split(delimiter)
    changed = False
    for i, piece in enumerate(pieces[1:], start=1):
        head, separator, rest = piece.partition(b"\r\n\r\n")
        if not separator:
            continue
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            pieces[i] = head.decode("gb18030", "replace").encode("utf-8") + separator + rest
            changed = True
    return delimiter.join(pieces) if changed else body


def init_app(app: Flask) -> None:
    """Install the checks on ``app``."""
    # Werkzeug refuses a form of more parts with a 413; the view says how
    # many files one upload may have.
    app.config.setdefault("MAX_FORM_PARTS", MAX_UPLOAD_FILES + _OTHER_PARTS)
    app.before_request(check_request)
    app.after_request(security_headers)
    app.wsgi_app = MultipartHeaderFix(  # type: ignore[method-assign]
        app.wsgi_app, lambda: app.config["MAX_CONTENT_LENGTH"])
