"""Every setting of zhsearch, declared once: name, environment variable, default, parser.

The CLI builds its options from this table and the web app its config, so a
setting has one name, one variable and one default wherever it is read. What
each means is the comment above it; the README's table of settings is for
the user.

>>> SETTINGS["corpus"].env, SETTINGS["corpus"].default
('ZHSEARCH_CORPUS', 'corpus')
>>> from_env({"ZHSEARCH_MAX_UPLOAD_MB": "5"})["max_upload_mb"]
5.0
>>> from_env({"ZHSEARCH_READ_MEMORY_MB": "lots"})
Traceback (most recent call last):
indexer.errors.BadSetting: ZHSEARCH_READ_MEMORY_MB='lots' cannot be used: invalid literal for int() with base 10: 'lots'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from indexer.errors import BadSetting


@dataclass(frozen=True)
class Setting:
    name: str
    env: str | None
    default: Any
    parse: Callable[[str], Any] = str
    config_key: str | None = None  # the Flask config key, where the web reads it


def _mb(value: str) -> float:
    mb = float(value)
    if not 0 < mb <= 4096:
        raise ValueError(f"{value} MB is not between 0 and 4096")
    return mb


def _hosts(value: str) -> tuple[str, ...]:
    """``"a.example, .b.example"`` -> ``('a.example', '.b.example')``."""
    return tuple(h.strip().lower().rstrip(".") for h in value.split(",") if h.strip())


_TABLE = [
    # The command line's own options: their help is the catalogue's
    # (indexer/messages.py, HELP), in English and Chinese.
    Setting("corpus", "ZHSEARCH_CORPUS", "corpus", config_key="CORPUS_DIR"),
    Setting("index", "ZHSEARCH_INDEX", "index", config_key="INDEX_DIR"),
    Setting("host", None, "127.0.0.1", config_key="HOST"),
    Setting("port", None, 5000, int),
    Setting("threads", None, 8, int),
    # Token the upload form asks for; without one, uploads work on loopback only.
    Setting("upload_token", "ZHSEARCH_UPLOAD_TOKEN", None, config_key="UPLOAD_TOKEN"),
    # Key that signs upload forms; set it to keep open forms valid across restarts.
    Setting("secret_key", "ZHSEARCH_SECRET_KEY", None, config_key="SECRET_KEY"),
    # Largest upload request, in MB.
    Setting("max_upload_mb", "ZHSEARCH_MAX_UPLOAD_MB", 20.0, _mb),
    # Seconds a writer waits for another process's writer lock.
    Setting("lock_timeout", None, 60.0, float, config_key="LOCK_TIMEOUT"),
    # Seconds a server thread searches one commit of the index before it looks for a newer one
    # (0: on every request, as each process of a prefork server must).
    Setting("refresh_seconds", None, 1.0, float, config_key="REFRESH_SECONDS"),
    # Results per page on the web page.
    Setting("page_size", None, 10, int, config_key="PAGE_SIZE"),
    # Most results one /api/search request returns.
    Setting("api_max_limit", None, 100, int, config_key="API_MAX_LIMIT"),
    # Most hits one export from the web page holds; a larger one is refused.
    Setting("export_max_hits", None, 100_000, int, config_key="EXPORT_MAX_HITS"),
    # Host names the web server answers besides the address it listens on (comma-separated;
    # .example.org allows its subdomains).
    Setting("allowed_hosts", "ZHSEARCH_ALLOWED_HOSTS", (), _hosts, config_key="ALLOWED_HOSTS"),
    # Memory (address space, MB) of the process that reads one report file.
    Setting("read_memory_mb", "ZHSEARCH_READ_MEMORY_MB", 2048, int),
    # Seconds reading one report file may take before it is refused.
    Setting("read_seconds", "ZHSEARCH_READ_SECONDS", 120.0, float),
    # Seconds reading all the files of one add or upload may take together; the files left when
    # it runs out are refused.
    Setting("read_request_seconds", "ZHSEARCH_READ_REQUEST_SECONDS", 600.0, float),
]
SETTINGS: dict[str, Setting] = {s.name: s for s in _TABLE}


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting's value: its environment variable when set, else its default."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in _TABLE:
        raw = environ.get(setting.env) if setting.env else None
        try:
            values[setting.name] = setting.parse(raw) if raw else setting.default
        except ValueError as error:
            raise BadSetting(f"{setting.env}={raw!r} cannot be used: {error}",
                             variable=setting.env, value=raw) from None
    return values


def flask_config(values: Mapping[str, Any]) -> dict[str, Any]:
    """The Flask config keys of ``values`` (a secret key only when one is set)."""
    config = {s.config_key: values[s.name] for s in _TABLE
              if s.config_key and s.name in values}
    if not config.get("SECRET_KEY"):
        config.pop("SECRET_KEY", None)
    if "max_upload_mb" in values:
        config["MAX_CONTENT_LENGTH"] = int(values["max_upload_mb"] * 1024 * 1024)
    return config
