"""OpenAI-compatible endpoints: client setup, retries, concurrency and errors, shared by distill and the
``openai`` engine.

Any server that speaks the OpenAI API works the same way: DashScope's compatible mode, DeepSeek, a local
``vllm serve``. Retries are the official client's own: exponential backoff with jitter (0.5 s doubling to
8 s), ``Retry-After`` honoured, on 408/409/429/5xx, timeouts and dropped connections. What it does not
retry is one of two things. 401, 403 and 404 are a mistake in the setup that fails every request: they
stop the run, reported by :func:`explain` in words that say which. Any other 4xx is the server refusing
*this* request (400 context too long, DashScope's ``DataInspectionFailed`` content filter, DeepSeek's
content-risk refusal): :func:`refusal` gives its reason, and the caller fails that request alone, unless
the same reason refuses the first :data:`SAME_REFUSALS_STOP` distinct prompts before any request has
succeeded: then it is a setting every request carries (a parameter the API does not take) and the run stops.

The API key is read from the environment and handed to the client, nothing else: it is never stored,
logged or put into an error message (:func:`redact` scrubs server messages that echo it).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from urllib.parse import urlparse

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


SAME_REFUSALS_STOP = 3  # distinct prompts refused for one reason, none answered yet: every request would be


class TeacherError(RuntimeError):
    """An error that fails every request, so retrying cannot fix it: no key, bad key, forbidden, wrong model or
    URL, a request setting the API refuses."""


@dataclass
class ClientConfig:
    base_url: str | None = None  # None: $OPENAI_BASE_URL, else the client's default (api.openai.com)
    api_key_env: str = DEFAULT_KEY_ENV  # the *name* of the variable holding the key, never the key
    timeout: float = 60.0  # seconds per request attempt
    max_retries: int = 5
    concurrency: int = 8  # requests in flight at once

    def __post_init__(self):
        if self.concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.timeout <= 0:
            raise ValueError("timeout must be > 0")

    @property
    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get(BASE_URL_ENV) or None


def endpoint(base_url: str | None) -> str:
    """``scheme://host:port/path`` of an API base URL, the cache's name for a server: two servers on one
    host differ by port or path and must not share replies, while one server written two ways (a trailing
    slash, the default port left out, upper case) must. Credentials and query strings are left out."""
    url = urlparse(base_url or "https://api.openai.com/v1")
    scheme = (url.scheme or "https").lower()
    host = (url.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host  # IPv6
    return f"{scheme}://{host}:{url.port or {'http': 80, 'https': 443}.get(scheme, '')}{url.path.rstrip('/')}"


def api_key(cfg: ClientConfig) -> str:
    """The key from ``$cfg.api_key_env``. A local server (vllm serve) takes any key, so one is not required."""
    key = os.environ.get(cfg.api_key_env, "").strip()
    if key:
        return key
    host = urlparse(cfg.resolved_base_url or "").hostname
    if host in _LOOPBACK:
        return "EMPTY"
    raise TeacherError(f"no API key: set ${cfg.api_key_env} (or name another variable with --api-key-env)")


def make_client(cfg: ClientConfig):
    """The official async client with our timeout and retry budget."""
    import openai

    return openai.AsyncOpenAI(api_key=api_key(cfg), base_url=cfg.resolved_base_url, timeout=cfg.timeout,
                              max_retries=cfg.max_retries)


def redact(text: str, cfg: ClientConfig) -> str:
    key = os.environ.get(cfg.api_key_env, "").strip()
    return text.replace(key, "***") if len(key) >= 4 else text


def explain(exc: BaseException, cfg: ClientConfig, model: str) -> TeacherError | None:
    """A :class:`TeacherError` for errors that must stop the run at once (401, 403, 404); None for the others."""
    import openai

    where = cfg.resolved_base_url or "the default OpenAI endpoint"
    detail = redact(str(getattr(exc, "message", "") or exc), cfg)
    if isinstance(exc, openai.AuthenticationError):
        return TeacherError(f"bad API key: {where} refused the key in ${cfg.api_key_env} (401): {detail}")
    if isinstance(exc, openai.PermissionDeniedError):
        return TeacherError(f"forbidden: the key in ${cfg.api_key_env} may not use model {model!r} at {where} "
                            f"(403): {detail}")
    if isinstance(exc, openai.NotFoundError):
        return TeacherError(f"wrong model or base URL: {where} has no model {model!r} (404); check --teacher "
                            f"and --base-url: {detail}")
    return None


def refusal(exc: BaseException, cfg: ClientConfig) -> str | None:
    """``"STATUS: the server's message"`` when the server refused this one request (a 4xx that is neither a
    setup error nor one the client retries); None for any other error."""
    import openai

    if (isinstance(exc, openai.APIStatusError) and 400 <= exc.status_code < 500
            and exc.status_code not in (401, 403, 404, 408, 409, 429)):
        error = exc.body.get("error", exc.body) if isinstance(exc.body, dict) else None
        message = error.get("message") if isinstance(error, dict) else None  # the server's words, no prefix
        return f"{exc.status_code}: {redact(str(message or exc.message or exc), cfg)}"
    return None


def refused_everything(reason: str, prompts: int, cfg: ClientConfig) -> TeacherError:
    """The run-stopping error when ``reason`` refused the first ``prompts`` distinct prompts."""
    where = cfg.resolved_base_url or "the default OpenAI endpoint"
    return TeacherError(f"{where} refused the first {prompts} distinct requests for the same reason, so every "
                        f"request would fail (a setting the API does not take?): {reason}")


def is_transient(exc: BaseException) -> bool:
    """Errors the client already retried ``max_retries`` times: give up on this request, not on the run."""
    import openai

    if isinstance(exc, openai.APIConnectionError):  # includes timeouts
        return True
    return isinstance(exc, openai.APIStatusError) and (exc.status_code in (408, 409, 429)
                                                       or exc.status_code >= 500)


# ---------------------------------------------------------------- response cache


def prompt_hash(request: dict) -> str:
    """sha256 of a request body as canonical JSON: the prompt and every setting that shapes the reply."""
    canonical = json.dumps(request, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class CachedReply:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    logprob: float


class ResponseCache:
    """Teacher replies in SQLite, keyed by (teacher, model, prompt hash, sample index).

    Each reply is committed (WAL, synchronous=FULL) before anyone uses it, so a killed run has paid for
    nothing it cannot find here again. Only replies are stored: never a request header, never the key.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS replies (teacher TEXT NOT NULL, model TEXT NOT NULL, "
            "prompt_hash TEXT NOT NULL, sample INTEGER NOT NULL, text TEXT NOT NULL, finish_reason TEXT, "
            "prompt_tokens INTEGER, completion_tokens INTEGER, logprob REAL, created REAL, "
            "PRIMARY KEY (teacher, model, prompt_hash, sample))")
        self.db.commit()

    def get(self, teacher: str, model: str, phash: str, sample: int) -> CachedReply | None:
        row = self.db.execute(
            "SELECT text, finish_reason, prompt_tokens, completion_tokens, logprob FROM replies "
            "WHERE teacher=? AND model=? AND prompt_hash=? AND sample=?", (teacher, model, phash, sample)).fetchone()
        return CachedReply(*row) if row else None

    def put(self, teacher: str, model: str, phash: str, sample: int, reply: CachedReply) -> None:
        self.db.execute("INSERT OR REPLACE INTO replies VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (teacher, model, phash, sample, reply.text, reply.finish_reason, reply.prompt_tokens,
                         reply.completion_tokens, reply.logprob, time.time()))
        self.db.commit()

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def close(self) -> None:
        self.db.close()
