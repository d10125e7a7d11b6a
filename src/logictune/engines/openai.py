"""An engine over any OpenAI-compatible endpoint: vllm serve, DashScope, DeepSeek, the test server.

A prompt given as text goes to ``/v1/completions`` as is: the exact rendered prompt (chat template
included) that the model was trained on, which a ``vllm serve`` of our own model answers. A prompt given
as a message list goes to ``/v1/chat/completions``, the only endpoint most hosted APIs have (distill's
teacher prompts). Each chain is one request whose ``seed`` is derived from (``sampling.seed``, sample
index j), so chain j of a prompt is the same question asked again, and the response cache keys on j.
``top_k`` goes in the body beside temperature and top_p (vLLM and DashScope take it), so one
SamplingParams samples one distribution on every engine; a server that refuses it (OpenAI's own API
answers 400) is asked again without it, with one warning.

Client, retries, timeouts and errors come from :mod:`logictune.teachers`; requests in flight are capped
at ``concurrency``. Every reply is committed to the cache (when one is given) before it is used.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import teachers
from . import Completion, SamplingParams, false_stop

MoreFn = Callable[[int, list[Completion]], int]
DoneFn = Callable[[int, list[Completion]], None]
_MISSING_LOGPROB = -1e4  # a candidate letter not among the returned top tokens: very unlikely, still finite
_TOP_LOGPROBS = 20


@dataclass
class EngineStats:
    """What was asked and paid for, for progress bars and summaries."""

    requests: int = 0  # replies received from the server: the paid ones
    cached: int = 0  # replies taken from the cache, or shared with the same request in flight: free
    errors: int = 0  # requests given up after the client's retries
    refused: int = 0  # requests the server refused (a 4xx for that request alone)
    prompt_tokens: int = 0  # paid
    completion_tokens: int = 0  # paid
    started: float = field(default_factory=time.perf_counter)

    @property
    def requests_per_s(self) -> float:
        elapsed = time.perf_counter() - self.started
        return self.requests / elapsed if elapsed > 0 else 0.0


@dataclass
class Failure:
    """A request that got no reply: ``kind`` "error" (given up after the retries) or "refused" (the server
    answered 4xx for this request alone); ``reason`` says why, in the server's words."""

    kind: str
    reason: str


class OpenAIEngine:
    def __init__(self, model: str, tokenizer=None, *, base_url: str | None = None,
                 api_key_env: str = teachers.DEFAULT_KEY_ENV, concurrency: int = 8, max_retries: int = 5,
                 timeout: float = 60.0, cache: str | Path | teachers.ResponseCache | None = None,
                 teacher: str | None = None, logprobs: bool | None = None, progress=None,
                 on_reply: Callable[[EngineStats], None] | None = None, batch_size: int | None = None,
                 max_stop: int | None = 4):
        """``model``: the model name the server serves. ``tokenizer`` is unused (the server has its own).

        ``cache``: a SQLite path or :class:`teachers.ResponseCache`; replies are keyed by ``teacher`` (default
        ``openai:`` + :func:`teachers.endpoint`), ``model``, the request's hash and the sample index. ``logprobs``: ask for
        token log-probs (default: on for text prompts, off for chat, which not every API supports).
        ``progress(prompts_done, tokens)`` as in the hf engine; ``on_reply(stats)`` after every reply.
        ``batch_size`` is accepted for the common CLI and ignored: ``concurrency`` bounds the work in flight.
        """
        if not isinstance(model, str) or not model:
            raise ValueError("the openai engine needs the served model's name as `model`")
        self.model = model
        self.cfg = teachers.ClientConfig(base_url=base_url, api_key_env=api_key_env, timeout=timeout,
                                         max_retries=max_retries, concurrency=concurrency)
        self.cache = teachers.ResponseCache(cache) if isinstance(cache, str | Path) else cache
        self.teacher = teacher or f"openai:{teachers.endpoint(self.cfg.resolved_base_url)}"
        self.logprobs = logprobs
        self.progress = progress
        self.on_reply = on_reply
        # OpenAI's API takes at most 4 stop strings (DeepSeek 16) and rejects more with a 400; predict's
        # answer stops are many more. Over the cap none is sent and the text is cut here instead, by the
        # same regex the hf engine stops on. None: no cap (vLLM servers take any number).
        self.max_stop = max_stop
        self.stats = EngineStats()
        self._fatal: teachers.TeacherError | None = None
        self._top_k_refused = False  # the server said no to top_k: sample without it (warned once)
        self._answered = False  # any reply from the server yet: then no refusal can mean "every request"
        self._refusals: dict[str, set[str]] = {}  # reason -> prompt hashes it refused before any reply
        self._in_flight: dict[tuple[str, int], asyncio.Future] = {}  # (prompt hash, sample) -> its reply

    # ------------------------------------------------------------ requests

    def request(self, prompt: str | list[dict], sampling: SamplingParams) -> dict:
        """The request body for one chain, without its seed (the cache key hashes this)."""
        body: dict = {"model": self.model, "max_tokens": sampling.max_new_tokens,
                      "temperature": sampling.temperature, "top_p": sampling.top_p}
        if sampling.top_k > 0 and not self._top_k_refused:  # the hf and vllm engines' distribution
            body["top_k"] = sampling.top_k
        stops = list(getattr(sampling, "stop", None) or [])
        if stops and (self.max_stop is None or len(stops) <= self.max_stop):
            body["stop"] = stops
        if isinstance(prompt, str):
            body["prompt"] = prompt
            if self.logprobs is not False:
                body["logprobs"] = 1
        else:
            body["messages"] = prompt
            if self.logprobs:
                body["logprobs"] = True
        return body

    def is_cached(self, prompt: str | list[dict], sampling: SamplingParams, sample: int) -> bool:
        """Whether chain ``sample`` of ``prompt`` is in the cache already (free to ask again)."""
        if self.cache is None:
            return False
        phash = teachers.prompt_hash({**self.request(prompt, sampling), "seed": sampling.seed})
        return self.cache.get(self.teacher, self.model, phash, sample) is not None

    async def _create(self, client, body: dict):
        body = dict(body)
        # Not an OpenAI argument, so the client has no parameter for it; vLLM and DashScope read it from the body.
        extra = {"extra_body": {"top_k": body.pop("top_k")}} if "top_k" in body else {}
        if "messages" in body:
            return await client.chat.completions.create(**body, **extra)
        return await client.completions.create(**body, **extra)

    async def _ask(self, client, sem: asyncio.Semaphore, body: dict, sample: int, base_seed: int,
                   parse=None) -> teachers.CachedReply | Failure:
        """Reply ``sample`` to ``body``: from the cache, else from the server, sent with seed
        ``base_seed + sample`` and committed to the cache before it is returned. The same request already
        in flight (a problem the data repeats) is not sent again: its reply is shared.

        A :class:`Failure` when the request still failed after the client's retries or the server refused
        it; errors that fail every request raise TeacherError.
        """
        if self._top_k_refused:
            body = {k: v for k, v in body.items() if k != "top_k"}
        phash = teachers.prompt_hash({**body, "seed": base_seed})
        key = (phash, sample)
        if key in self._in_flight:
            self.stats.cached += 1
            return await asyncio.shield(self._in_flight[key])
        hit = self.cache.get(self.teacher, self.model, phash, sample) if self.cache is not None else None
        if hit is not None:  # not an answer from the server as it is now: refusals may still mean "all"
            self.stats.cached += 1
            return hit
        flight = self._in_flight[key] = asyncio.get_running_loop().create_future()
        try:
            result = await self._send(client, sem, body, phash, sample, base_seed, parse)
        except asyncio.CancelledError:
            flight.cancel()
            raise
        except BaseException as e:
            flight.set_exception(e)
            flight.exception()  # marked as seen: a request nobody shared has no one else to tell
            raise
        else:
            flight.set_result(result)
        finally:
            del self._in_flight[key]
        return result

    async def _send(self, client, sem: asyncio.Semaphore, body: dict, phash: str, sample: int, base_seed: int,
                    parse) -> teachers.CachedReply | Failure:
        async with sem:
            if self._fatal is not None:  # another request hit an error that fails them all: send nothing more
                raise self._fatal
            again = self._top_k_refused and "top_k" in body  # top_k was dropped while this request waited
            if not again:
                try:
                    resp = await self._create(client, {**body, "seed": chain_seed(base_seed, sample)})
                except Exception as e:
                    if not self._refused_top_k(e, body):
                        return self._failure(e, phash)
                    again = True
        if again:  # the same request without top_k (and its own cache key)
            return await self._ask(client, sem, body, sample, base_seed, parse)
        self._answered = True
        reply = (parse or _parse)(resp)
        if self.cache is not None:
            self.cache.put(self.teacher, self.model, phash, sample, reply)
        self.stats.requests += 1
        self.stats.prompt_tokens += reply.prompt_tokens
        self.stats.completion_tokens += reply.completion_tokens
        if self.on_reply:
            self.on_reply(self.stats)
        return reply

    def _refused_top_k(self, exc: Exception, body: dict) -> bool:
        """Whether the server refused ``body`` for its top_k (OpenAI's own API does): then it is dropped for
        the rest of the run, with one warning, since the samples no longer match the hf and vllm engines'."""
        reason = teachers.refusal(exc, self.cfg)
        if "top_k" not in body or reason is None or "top_k" not in reason:
            return False
        if not self._top_k_refused:
            self._top_k_refused = True
            warnings.warn(f"{self.cfg.resolved_base_url or 'the endpoint'} does not take top_k ({reason}); sampling "
                          "without it, from a wider distribution than the hf and vllm engines'", stacklevel=2)
        return True

    def _failure(self, exc: Exception, phash: str) -> Failure:
        """What one failed request means: a :class:`Failure` of that request, or TeacherError (raised) when
        the error fails every request: a setup error, or one refusal reason for the first prompts asked."""
        fatal = teachers.explain(exc, self.cfg, self.model)
        reason = teachers.refusal(exc, self.cfg) if fatal is None else None
        if reason is not None:
            if not self._answered:
                refused = self._refusals.setdefault(reason, set())
                refused.add(phash)
                if len(refused) >= teachers.SAME_REFUSALS_STOP:
                    fatal = teachers.refused_everything(reason, len(refused), self.cfg)
            if fatal is None:
                self.stats.refused += 1
                return Failure("refused", reason)
        if fatal is not None:
            self._fatal = fatal
            raise fatal from None
        if teachers.is_transient(exc):
            self.stats.errors += 1
            return Failure("error", f"gave up after {self.cfg.max_retries} retries: "
                                    f"{teachers.redact(str(exc), self.cfg)}")
        raise exc

    # ------------------------------------------------------------ generate

    def generate(self, prompts: list, n: int, sampling: SamplingParams | list[SamplingParams], *,
                 more: MoreFn | None = None, on_done: DoneFn | None = None) -> list[list[Completion]]:
        """``n`` chains per prompt, one request each, at most ``concurrency`` in flight.

        When a prompt's chains have all come back, ``more(i, completions)`` may ask for more (new sample
        indices); then ``on_done(i, completions)``. ``sampling``: one for all prompts or one per prompt.
        Completions are in sample-index order. A request that failed after every retry, or that the server
        refused, gives a completion with no text, ``finish_reason`` "error" or "refused" and the reason in
        ``error``.
        """
        if n < 1:
            raise ValueError("n must be >= 1")
        if isinstance(sampling, SamplingParams):
            sampling = [sampling] * len(prompts)
        if len(sampling) != len(prompts):
            raise ValueError(f"{len(sampling)} sampling params for {len(prompts)} prompts")
        return _run(self._generate(prompts, n, list(sampling), more, on_done))

    async def _generate(self, prompts, n, sampling, more, on_done) -> list[list[Completion]]:
        client = teachers.make_client(self.cfg)
        sem = asyncio.Semaphore(self.cfg.concurrency)
        self._fatal = None
        results: list[list[Completion]] = [[] for _ in prompts]

        async def chain(body: dict, sample: int, seed: int, sp: SamplingParams) -> Completion:
            reply = await self._ask(client, sem, body, sample, seed)
            if isinstance(reply, Failure):
                return Completion("", finish_reason=reply.kind, n_tokens=0, error=reply.reason)
            text, logprob, tokens = reply.text, reply.logprob, reply.completion_tokens
            # A stop string sent to the server that ended the text on a conditional answer line (vLLM says
            # which stop it was, so the text ends with it): go on from the text so far, as a text prompt.
            while "stop" in body and "prompt" in body and false_stop(text, sp) and tokens < sp.max_new_tokens:
                more = await self._ask(client, sem, {**body, "prompt": body["prompt"] + text,
                                                     "max_tokens": sp.max_new_tokens - tokens}, sample, seed)
                if isinstance(more, Failure) or not more.text:
                    break
                reply, text, logprob, tokens = more, text + more.text, logprob + more.logprob, \
                    tokens + more.completion_tokens
            if self.progress:
                self.progress(0, tokens)
            cut = cut_at_stop(text, sp.stop_regex)
            return Completion(cut, logprob=logprob, finish_reason="stop" if cut != text else reply.finish_reason,
                              n_tokens=tokens)

        # The caller's callbacks may block (programs run in the sandbox for seconds): they run one at a time
        # on a thread of their own, so the requests in flight and their timers never wait on them.
        callbacks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-callbacks")
        loop = asyncio.get_running_loop()

        async def run_prompt(i: int) -> None:
            body, seed, k = self.request(prompts[i], sampling[i]), sampling[i].seed, n
            while k > 0:
                start = len(results[i])
                results[i].extend(await asyncio.gather(*(chain(body, j, seed, sampling[i])
                                                         for j in range(start, start + k))))
                k = await loop.run_in_executor(callbacks, more, i, results[i]) if more else 0
            if self.progress:
                self.progress(1, 0)
            if on_done:
                await loop.run_in_executor(callbacks, on_done, i, results[i])

        try:
            async with asyncio.TaskGroup() as tg:
                for i in range(len(prompts)):
                    tg.create_task(run_prompt(i))
        except BaseExceptionGroup as group:  # the first failure, as itself (the others were cancelled)
            raise group.exceptions[0] from None
        finally:
            callbacks.shutdown(wait=True)
            await client.close()
        return results

    # ------------------------------------------------------------ option scoring

    def score_next_token(self, prompts: list[str], candidates: list[list[str]]) -> list[list[float]]:
        """Each candidate's log-prob as the next token, from the top-20 log-probs of one greedy token.

        Needs the completions endpoint (text prompts) with ``logprobs``, as vllm serves it. A candidate
        outside the top 20 gets -1e4: far below the others, still finite for normalising.
        """
        if any(not isinstance(p, str) for p in prompts):
            raise NotImplementedError("option scoring needs text prompts (the completions endpoint)")
        return _run(self._score(prompts, candidates))

    async def _score(self, prompts, candidates) -> list[list[float]]:
        client = teachers.make_client(self.cfg)
        sem = asyncio.Semaphore(self.cfg.concurrency)
        self._fatal = None

        async def one(prompt: str, cands: list[str]) -> list[float]:
            body = {"model": self.model, "prompt": prompt, "max_tokens": 1, "temperature": 0.0,
                    "logprobs": _TOP_LOGPROBS}
            reply = await self._ask(client, sem, body, 0, 0, parse=_parse_top)
            if isinstance(reply, Failure):
                raise RuntimeError(f"option scoring failed: {reply.reason}")
            top: dict[str, float] = json.loads(reply.text)
            best: dict[str, float] = {}
            for token, lp in top.items():
                key = token.strip()
                best[key] = max(lp, best.get(key, float("-inf")))
            return [best.get(c.strip(), _MISSING_LOGPROB) for c in cands]

        try:
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(one(p, c)) for p, c in zip(prompts, candidates, strict=True)]
        except BaseExceptionGroup as group:
            raise group.exceptions[0] from None
        finally:
            await client.close()
        return [t.result() for t in tasks]


def chain_seed(seed: int, sample: int) -> int:
    """The request seed of chain ``sample``: a hash (neighbouring seeds need not give unrelated streams),
    31 bits because some APIs take no larger seed."""
    return int.from_bytes(hashlib.sha256(repr((seed, sample)).encode()).digest()[:4], "big") >> 1


def cut_at_stop(text: str, stop_regex: str | None) -> str:
    """``text`` up to the end of the first match of ``stop_regex`` (what the hf engine would have kept)."""
    match = re.search(stop_regex, text) if stop_regex else None
    return text[: match.end()] if match else text


def _run(coro):
    """Run a coroutine from synchronous code (the engine protocol is synchronous)."""
    return asyncio.run(coro)


def _parse(resp) -> teachers.CachedReply:
    choice = resp.choices[0]
    usage = resp.usage
    finish = "length" if choice.finish_reason == "length" else "eos"
    prompt_tokens = getattr(usage, "prompt_tokens", 0) or 0
    completion_tokens = getattr(usage, "completion_tokens", 0) or 0
    if hasattr(choice, "message"):  # chat
        text = choice.message.content or ""
        content = getattr(choice.logprobs, "content", None) or []
        logprob = sum(t.logprob for t in content)
    else:
        text = choice.text or ""
        lp = choice.logprobs
        logprob = sum(x for x in (getattr(lp, "token_logprobs", None) or []) if x is not None)
    # A server that stopped on a stop string leaves it out of the text, and the answer line with it. vLLM
    # says which one matched (``stop_reason``, its extension of the API): put it back.
    stop_reason = getattr(choice, "stop_reason", None)
    if choice.finish_reason == "stop" and isinstance(stop_reason, str) and not text.endswith(stop_reason):
        text += stop_reason
    return teachers.CachedReply(text, finish, prompt_tokens, completion_tokens, float(logprob))


def _parse_top(resp) -> teachers.CachedReply:
    """The first token's top log-probs, as JSON text (what the cache stores)."""
    top = resp.choices[0].logprobs.top_logprobs[0]
    usage = resp.usage
    return teachers.CachedReply(json.dumps(dict(top), ensure_ascii=False), "length",
                                getattr(usage, "prompt_tokens", 0) or 0, getattr(usage, "completion_tokens", 0) or 0,
                                0.0)
