"""A small OpenAI-compatible HTTP server on 127.0.0.1 for tests: scripted replies or a tiny model, faults
on demand, and a log of every request, so a test can count what was paid for.

Production code talks to it through the real ``openai`` client, unchanged: ``base_url=server.url``.

Stop strings are honoured as ``vllm serve`` honours them: the text ends before the first one, which the
reply names in ``stop_reason``.

Faults (each request draws at most one, at the given rates): ``429`` with ``Retry-After``, ``500``,
``slow`` (the reply comes after ``slow_seconds``, past the client's timeout), ``truncated`` (the body
stops half way and the connection closes), ``drop`` (the connection closes with no reply). ``wrong`` is a
content fault: a well-formed reply whose answer line names another letter, decided by (prompt, seed) so
asking again with the same seed gets the same wrong reply.

Billing model of the log: a request is *paid* when a full 200 reply was written to a client still there.
A client that went away (a timeout, a killed process) is not sent its reply, as vLLM aborts such requests.

    python -m logictune.testserver --port 8000 --fault-rate 0.3   # for trying distill by hand
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import prompts

HTTP_FAULTS = ("429", "500", "slow", "truncated", "drop")


@dataclass
class Faults:
    rates: dict[str, float] = field(default_factory=dict)  # fault name -> probability per request
    script: list[str | None] = field(default_factory=list)  # faults of the first requests, in order (None: ok)
    wrong: float = 0.0  # share of (prompt, seed) pairs answered with a wrong letter
    retry_after: float = 0.05  # seconds, sent with 429
    slow_seconds: float = 2.0
    seed: int = 0

    @classmethod
    def spread(cls, total: float, **kw) -> Faults:
        """``total`` split evenly over the HTTP faults."""
        return cls({name: total / len(HTTP_FAULTS) for name in HTTP_FAULTS}, **kw)


@dataclass
class Reply:
    text: str
    prompt_tokens: int
    completion_tokens: int
    token_logprobs: list[float] | None = None
    top_logprobs: dict[str, float] | None = None  # of the first token, for option scoring
    stop_reason: str | None = None  # the stop string that ended the text (vLLM's extension), left out of it


def apply_stop(reply: Reply, stops: list[str]) -> Reply:
    """The reply cut before the first of ``stops`` in it, as vLLM serves one: the stop string left out of
    the text and named in ``stop_reason``; tokens and log-probs shrink to what was generated (the stop
    string's included)."""
    hits = [(reply.text.find(s), s) for s in stops if s and s in reply.text]
    if not hits:
        return reply
    at, stop = min(hits)
    keep = (at + len(stop)) / max(len(reply.text), 1)
    lps = reply.token_logprobs[: round(len(reply.token_logprobs) * keep)] if reply.token_logprobs else None
    return Reply(reply.text[:at], reply.prompt_tokens, round(reply.completion_tokens * keep), lps,
                 reply.top_logprobs, stop)


Responder = Callable[[dict, int], Reply]  # (request body, seed) -> reply


def request_text(body: dict) -> str:
    if "messages" in body:
        return "\n".join(str(m.get("content", "")) for m in body["messages"])
    return str(body.get("prompt", ""))


def request_hash(body: dict) -> str:
    """What identifies a prompt in the log: the request without its seed."""
    rest = {k: v for k, v in body.items() if k != "seed"}
    return hashlib.sha256(json.dumps(rest, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


_KEY = re.compile(re.escape(prompts.TEACHER_ANSWER_HEADER) + r"\s*([A-Z])")
_ANSWER_LINE = re.compile(r"答案是：([A-Z])\s*$")


def scripted_teacher(body: dict, seed: int) -> Reply:
    """A teacher that derives the key shown in the prompt ("### 正确答案：X"); option letters otherwise."""
    text = request_text(body)
    m = _KEY.search(text)
    letter = m.group(1) if m else "ABCD"[seed % 4]
    reply = f"分析：逐条检查题目条件（第 {seed} 次）。\n排除与条件矛盾的选项后，只剩选项 {letter}。\n答案是：{letter}"
    top = {"A": -1.5, "B": -0.5, "C": -2.0, "D": -3.0}
    return Reply(reply, len(text) // 2, len(reply) // 2, [-0.1] * (len(reply) // 2), top)


class TinyModelResponder:
    """Replies from a local HF model (the tests' tiny Qwen2): chat prompts through its chat template."""

    def __init__(self, model_dir: str | Path):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
        self.lock = threading.Lock()  # one generation at a time: the model is not thread-safe

    def __call__(self, body: dict, seed: int) -> Reply:
        import torch

        if "messages" in body:
            text = self.tokenizer.apply_chat_template(body["messages"], tokenize=False, add_generation_prompt=True)
        else:
            text = body["prompt"]
        ids = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        temperature = float(body.get("temperature", 1.0))
        with self.lock, torch.inference_mode():
            logits = self.model(ids).logits[0, -1].float().log_softmax(-1)
            values, idx = logits.topk(min(int(body.get("logprobs") or 20), logits.shape[-1]))
            top: dict[str, float] = {}
            for v, i in zip(values.tolist(), idx.tolist(), strict=True):
                tok = self.tokenizer.decode([i])
                top[tok] = max(v, top.get(tok, float("-inf")))
            torch.manual_seed(seed)
            out = self.model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=temperature > 0,
                                      temperature=temperature or None, top_p=float(body.get("top_p", 1.0)),
                                      max_new_tokens=int(body.get("max_tokens", 16)), output_scores=True,
                                      return_dict_in_generate=True)
            new = out.sequences[0, ids.shape[1]:]
            scores = self.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)[0]
        return Reply(self.tokenizer.decode(new, skip_special_tokens=True), ids.shape[1], len(new),
                     [float(s) for s in scores.tolist()], top)


class TestServer:
    """``with TestServer(...) as server:`` serves on ``server.url`` until the block ends."""

    __test__ = False  # not a pytest test class

    def __init__(self, responder: Responder = scripted_teacher, faults: Faults | None = None, *,
                 api_key: str | None = None, models: list[str] | None = None, forbidden: list[str] = (),
                 log_path: str | Path | None = None, delay: float = 0.0, port: int = 0, max_stop: int | None = None,
                 refuse: Callable[[dict], str | None] | None = None):
        self.responder = responder
        self.faults = faults or Faults()
        self.api_key = api_key  # when set, other keys get 401 (the key itself is never logged)
        self.models = models  # when set, other models get 404
        self.forbidden = set(forbidden)  # these get 403
        self.log_path = Path(log_path) if log_path else None
        self.delay = delay  # seconds before every reply, to keep requests in flight
        self.max_stop = max_stop  # OpenAI's own API takes at most 4 stop strings: more get 400
        self.refuse = refuse  # request body -> the message of a 400 for it (context too long, a filter), or None
        self.log: list[dict] = []
        self.gate = threading.Lock()  # held while a reply is written; tests hold it to freeze delivery
        self.before_reply: Callable[[dict], None] | None = None  # test hook, called once per request
        self._lock = threading.Lock()
        self._rng = random.Random(self.faults.seed)
        self._scripted = 0
        self._httpd = _QuietServer(("127.0.0.1", port), _handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> TestServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> TestServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ accounting

    def paid(self) -> list[dict]:
        """Log entries of replies delivered in full: what a provider bills."""
        with self._lock:
            return [e for e in self.log if e["status"] == 200 and e["delivered"]]

    def _record(self, entry: dict) -> None:
        with self._lock:
            self.log.append(entry)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def _draw_fault(self) -> str | None:
        with self._lock:
            if self._scripted < len(self.faults.script):
                self._scripted += 1
                return self.faults.script[self._scripted - 1]
            x = self._rng.random()
        for name in HTTP_FAULTS:
            x -= self.faults.rates.get(name, 0.0)
            if x < 0:
                return name
        return None

    def _wrong(self, body: dict, seed: int) -> bool:
        h = hashlib.sha256(f"{self.faults.seed}:{request_hash(body)}:{seed}".encode()).digest()
        return int.from_bytes(h[:8], "big") / 2**64 < self.faults.wrong


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # clients hanging up is what the faults are about
            super().handle_error(request, client_address)


def _client_gone(sock: socket.socket) -> bool:
    """True when the peer has closed its end (a timed-out or killed client): nothing to deliver to."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _body(kind: str, model: str, reply: Reply, body: dict) -> dict:
    usage = {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
             "total_tokens": reply.prompt_tokens + reply.completion_tokens}
    common = {"id": f"cmpl-{time.time_ns()}", "created": int(time.time()), "model": model, "usage": usage}
    lps = reply.token_logprobs or []
    if kind == "chat":
        logprobs = ({"content": [{"token": "", "logprob": lp, "bytes": None, "top_logprobs": []} for lp in lps]}
                    if body.get("logprobs") else None)
        return {**common, "object": "chat.completion", "choices": [{
            "index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop",
            "stop_reason": reply.stop_reason, "logprobs": logprobs}]}
    logprobs = None
    if body.get("logprobs") is not None:
        logprobs = {"tokens": [""] * len(lps), "token_logprobs": lps, "text_offset": [0] * len(lps),
                    "top_logprobs": [reply.top_logprobs or {}] + [{}] * max(len(lps) - 1, 0)}
        if body.get("max_tokens") == 1:
            logprobs["top_logprobs"] = [reply.top_logprobs or {}]
    return {**common, "object": "text_completion", "choices": [{
        "index": 0, "text": reply.text, "finish_reason": "stop", "stop_reason": reply.stop_reason,
        "logprobs": logprobs}]}


def _handler(server: TestServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet: the JSON log is the record
            pass

        def _send(self, status: int, payload: dict, headers: dict | None = None, *, cut: bool = False) -> None:
            raw = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw[: len(raw) // 2] if cut else raw)
            self.wfile.flush()
            if cut:
                self.close_connection = True

        def _error(self, status: int, message: str, code: str, headers: dict | None = None) -> None:
            self._send(status, {"error": {"message": message, "type": code, "code": code}}, headers)

        def do_GET(self) -> None:
            models = server.models or ["test-model"]
            self._send(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in models]})

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.loads(raw or b"{}")
            kind = "chat" if self.path.endswith("/chat/completions") else "completions"
            seed = int(body.get("seed") or 0)
            entry = {"time": time.time(), "kind": kind, "model": body.get("model"), "prompt_hash": request_hash(body),
                     "seed": seed, "fault": None, "status": None, "delivered": False}
            try:
                self._serve(body, kind, seed, entry)
            except OSError:  # the client went away while we wrote
                entry["delivered"] = False
                self.close_connection = True
            finally:
                server._record(entry)

        def _serve(self, body: dict, kind: str, seed: int, entry: dict) -> None:
            if server.api_key is not None and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                entry["status"] = 401
                # Like real APIs, the message echoes the key it was given: callers must not print it raw.
                given = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                return self._error(401, f"Incorrect API key provided: {given}.", "invalid_api_key")
            model = body.get("model")
            if model in server.forbidden:
                entry["status"] = 403
                return self._error(403, f"You are not allowed to use model {model}.", "permission_denied")
            if server.models is not None and model not in server.models:
                entry["status"] = 404
                return self._error(404, f"The model `{model}` does not exist.", "model_not_found")
            if server.max_stop is not None and len(body.get("stop") or []) > server.max_stop:
                entry["status"] = 400
                return self._error(400, f"'stop': at most {server.max_stop} sequences.", "invalid_request_error")
            refused = server.refuse(body) if server.refuse else None
            if refused is not None:
                entry["status"] = 400
                return self._error(400, refused, "invalid_request_error")
            if server.before_reply:
                server.before_reply(entry)
            fault = entry["fault"] = server._draw_fault()
            if fault == "429":
                entry["status"] = 429
                return self._error(429, "Rate limit reached.", "rate_limit_exceeded",
                                   {"Retry-After": f"{server.faults.retry_after:g}"})
            if fault == "500":
                entry["status"] = 500
                return self._error(500, "The server had an error.", "server_error")
            if fault == "drop":
                entry["status"] = 0
                self.close_connection = True
                return None
            time.sleep(server.faults.slow_seconds if fault == "slow" else server.delay)
            reply = apply_stop(server.responder(body, seed), list(body.get("stop") or []))
            if server._wrong(body, seed):
                entry["wrong"] = True
                reply.text = _ANSWER_LINE.sub(lambda m: "答案是：" + ("B" if m.group(1) == "A" else "A"), reply.text)
            entry["status"] = 200
            entry["completion_tokens"] = reply.completion_tokens
            entry["prompt_tokens"] = reply.prompt_tokens
            with server.gate:
                if _client_gone(self.connection):
                    self.close_connection = True
                    return None
                self._send(200, _body(kind, model, reply, body), cut=fault == "truncated")
                entry["delivered"] = fault != "truncated"
            return None

    return Handler


def main(port: int = 8000, fault_rate: float = 0.0, wrong: float = 0.0, api_key_env: str | None = None,
         log: str | None = None) -> None:
    """Serve scripted teacher replies until interrupted."""
    import os

    key = os.environ.get(api_key_env) if api_key_env else None
    with TestServer(faults=Faults.spread(fault_rate, wrong=wrong), api_key=key, log_path=log, port=port) as s:
        print(f"serving on {s.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    import typer

    typer.run(main)
