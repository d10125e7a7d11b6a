"""teachers: keys from the environment, setup errors named, Retry-After honoured, the reply cache."""

from __future__ import annotations

import pytest

from logictune import teachers
from logictune.engines import SamplingParams
from logictune.engines.openai import OpenAIEngine
from logictune.testserver import Faults, TestServer

KEY = "sk-teachers-test-0123456789"
MESSAGES = [[{"role": "user", "content": f"问题 {i}\n### 正确答案：B"}] for i in range(6)]


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("LT_TEACHERS_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return "LT_TEACHERS_KEY"


def test_missing_key_names_the_variable_and_loopback_needs_none(monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(teachers.TeacherError, match=r"\$NO_SUCH_KEY_VAR"):
        teachers.api_key(teachers.ClientConfig(base_url="https://api.deepseek.com", api_key_env="NO_SUCH_KEY_VAR"))
    local = teachers.ClientConfig(base_url="http://127.0.0.1:8000/v1", api_key_env="NO_SUCH_KEY_VAR")
    assert teachers.api_key(local) == "EMPTY"  # vllm serve takes any key


def test_base_url_from_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://dashscope.aliyuncs.com/compatible-mode/v1")
    assert teachers.ClientConfig().resolved_base_url == "https://dashscope.aliyuncs.com/compatible-mode/v1"
    assert teachers.ClientConfig(base_url="http://x/v1").resolved_base_url == "http://x/v1"


@pytest.mark.parametrize("setup, words", [
    ({"api_key": "sk-the-right-one"}, "bad API key"),
    ({"forbidden": ["m"]}, "forbidden"),
    ({"models": ["other-model"]}, "wrong model"),
])
def test_setup_errors_stop_at_once_and_say_which(key, setup, words):
    with TestServer(**setup) as server:
        engine = OpenAIEngine("m", base_url=server.url, api_key_env=key, concurrency=2, max_retries=5)
        with pytest.raises(teachers.TeacherError, match=words) as err:
            engine.generate(MESSAGES, 1, SamplingParams())
        # Not retried, and the run stopped: at most the requests already in flight were sent.
        assert len(server.log) <= 2
        assert KEY not in str(err.value)  # the 401 body echoes the key; the message must not


def test_a_setting_the_api_refuses_for_every_request_stops_the_run(key):
    with TestServer(max_stop=4) as server:
        # max_stop=None: the engine sends all 5 stops (by default it keeps within 4), the server says 400
        engine = OpenAIEngine("m", base_url=server.url, api_key_env=key, concurrency=2, max_stop=None)
        with pytest.raises(teachers.TeacherError, match=r"refused the first 3 distinct requests for the same "
                                                         r"reason.*400: 'stop': at most 4") as err:
            engine.generate(MESSAGES, 1, SamplingParams(stop=[f"答案是：{x}" for x in "ABCDE"]))
    assert "\n" not in str(err.value)  # one line
    assert teachers.SAME_REFUSALS_STOP <= len(server.log) < teachers.SAME_REFUSALS_STOP + 2  # + one in flight


def test_refusals_after_a_reply_fail_their_requests_only(key):
    """Once any request was answered, the API takes the run's settings: a refusal is about its own prompt."""
    with TestServer(refuse=lambda body: None if "问题 0" in str(body) else "DataInspectionFailed") as server:
        engine = OpenAIEngine("m", base_url=server.url, api_key_env=key, concurrency=1)
        out = engine.generate(MESSAGES, 1, SamplingParams())
    assert out[0][0].text.endswith("答案是：B")
    assert [c.finish_reason for [c] in out[1:]] == ["refused"] * 5
    assert all(c.error == "400: DataInspectionFailed" and not c.text for [c] in out[1:])
    assert len(server.log) == 6 and engine.stats.refused == 5  # refusals are not retried


def test_backoff_is_exponential_and_retry_after_is_honoured(key, monkeypatch):
    import openai._base_client as base_client

    waits: list[float] = []  # what the client decided to wait, read as it decides: no wall-clock upper bound
    decide = base_client.BaseClient._calculate_retry_timeout

    def recorded(self, *args, **kwargs) -> float:
        waits.append(decide(self, *args, **kwargs))
        return waits[-1]

    monkeypatch.setattr(base_client.BaseClient, "_calculate_retry_timeout", recorded)
    faults = Faults(script=["500", "truncated", "429", "429"], retry_after=0.3)
    with TestServer(faults=faults) as server:
        engine = OpenAIEngine("m", base_url=server.url, api_key_env=key, concurrency=1, max_retries=6)
        [[chain]] = engine.generate(MESSAGES[:1], 1, SamplingParams())
    assert chain.text.endswith("答案是：B") and chain.finish_reason != "error"
    assert [e["fault"] for e in server.log] == ["500", "truncated", "429", "429", None]
    # Backoff 0.5 s x 2^n less up to 25 % jitter; then the 429s' Retry-After (0.3 s) instead of the 2 s and
    # 4 s that backoff would wait by then.
    assert 0.375 <= waits[0] <= 0.5 and 0.75 <= waits[1] <= 1.0 and waits[2:] == [0.3, 0.3]
    times = [e["time"] for e in server.log]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(gap >= 0.95 * wait for gap, wait in zip(gaps, waits, strict=True))  # and it did wait them
    assert engine.stats.requests == 1 and engine.stats.errors == 0


def test_gives_up_after_max_retries_without_stopping_the_run(key):
    faults = Faults(script=["500", "500"], retry_after=0.01)
    with TestServer(faults=faults) as server:
        engine = OpenAIEngine("m", base_url=server.url, api_key_env=key, concurrency=1, max_retries=1)
        out = engine.generate(MESSAGES[:2], 1, SamplingParams())
    assert out[0][0].finish_reason == "error" and out[0][0].text == ""
    assert out[1][0].text.endswith("答案是：B")
    assert engine.stats.errors == 1 and engine.stats.requests == 1


def test_cache_roundtrip_survives_reopen(tmp_path):
    path = tmp_path / "c.sqlite"
    cache = teachers.ResponseCache(path)
    h = teachers.prompt_hash({"b": 1, "a": [1, 2]})
    assert h == teachers.prompt_hash({"a": [1, 2], "b": 1})  # key order does not matter
    assert h != teachers.prompt_hash({"a": [2, 1], "b": 1})
    reply = teachers.CachedReply("推理……\n答案是：C", "eos", 10, 5, -1.5)
    cache.put("openai:x", "m", h, 3, reply)
    cache.close()
    again = teachers.ResponseCache(path)
    assert again.get("openai:x", "m", h, 3) == reply
    assert again.get("openai:x", "m", h, 2) is None and again.get("openai:y", "m", h, 3) is None
    assert len(again) == 1


def test_redact_scrubs_the_key(key):
    cfg = teachers.ClientConfig(api_key_env=key)
    assert teachers.redact(f"Incorrect API key provided: {KEY}.", cfg) == "Incorrect API key provided: ***."


def test_top_k_is_sent_and_a_server_that_refuses_it_is_asked_again_without_it(key):
    bodies: list[dict] = []

    def refuse_top_k(body: dict) -> str | None:
        bodies.append(body)
        return "Unrecognized request argument supplied: top_k" if "top_k" in body else None

    with TestServer(refuse=lambda body: bodies.append(body)) as server:
        engine = OpenAIEngine("m", base_url=server.url, api_key_env=key)
        engine.generate(MESSAGES[:1], 1, SamplingParams(top_k=40))
        engine.generate(MESSAGES[:1], 1, SamplingParams(top_k=0))  # 0: the whole vocabulary, nothing to send
    assert bodies[0]["top_k"] == 40 and "top_k" not in bodies[1]

    bodies.clear()
    with TestServer(refuse=refuse_top_k) as server, pytest.warns(UserWarning, match="does not take top_k") as warned:
        engine = OpenAIEngine("m", base_url=server.url, api_key_env=key, concurrency=2)
        out = engine.generate(MESSAGES, 1, SamplingParams())  # a 400 for every one of them, were it not dropped
    assert all(c.text.endswith("答案是：B") for [c] in out) and engine.stats.refused == 0
    assert len(warned) == 1
    with_top_k = [b for b in bodies if "top_k" in b]
    assert 1 <= len(with_top_k) <= 2 and len(bodies) == len(MESSAGES) + len(with_top_k)  # + those in flight


def test_endpoint_names_a_server_by_scheme_host_port_and_path():
    same = ["http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1/", "HTTP://127.0.0.1:8000/v1"]
    assert {teachers.endpoint(u) for u in same} == {"http://127.0.0.1:8000/v1"}
    assert teachers.endpoint("https://user:sk-secret@api.deepseek.com/v1?key=sk-x") == "https://api.deepseek.com:443/v1"
    assert teachers.endpoint(None) == teachers.endpoint("https://api.openai.com:443/v1/")
    others = ["http://127.0.0.1:8001/v1", "https://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v2"]
    assert len({teachers.endpoint(u) for u in [same[0], *others]}) == 4


def test_two_servers_on_one_host_do_not_share_cached_replies(key, tmp_path):
    cache = tmp_path / "c.sqlite"
    with TestServer() as first, TestServer() as second:  # one host, two ports: two different servers
        OpenAIEngine("m", base_url=first.url, api_key_env=key, cache=cache).generate(MESSAGES[:2], 1, SamplingParams())
        engine = OpenAIEngine("m", base_url=second.url + "/", api_key_env=key, cache=cache)
        engine.generate(MESSAGES[:2], 1, SamplingParams())
        again = OpenAIEngine("m", base_url=second.url, api_key_env=key, cache=cache)  # the same server again
        again.generate(MESSAGES[:2], 1, SamplingParams())
    assert len(second.paid()) == 2 and engine.stats.cached == 0
    assert again.stats.cached == 2 and again.stats.requests == 0


def test_identical_requests_in_flight_at_once_are_paid_once(key):
    repeated = [MESSAGES[0], MESSAGES[1], MESSAGES[0], MESSAGES[0], MESSAGES[1]]  # repeated problems
    with TestServer(delay=0.2) as server:  # every request stays in flight while the others are sent
        engine = OpenAIEngine("m", base_url=server.url, api_key_env=key, concurrency=8)
        out = engine.generate(repeated, 2, SamplingParams())
    assert len(server.paid()) == 4 == engine.stats.requests  # 2 distinct prompts x 2 samples
    assert engine.stats.cached == 6
    assert [c.text for c in out[0]] == [c.text for c in out[2]] == [c.text for c in out[3]]
