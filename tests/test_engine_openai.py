"""The openai engine against the test server serving the tiny model: chains, rounds, cache, option scores."""

from __future__ import annotations

import json

import pytest

from logictune import data, predict, prompts
from logictune.engines import SamplingParams, get_engine
from logictune.engines import openai as openai_engine
from logictune.engines.openai import OpenAIEngine
from logictune.testserver import TestServer, TinyModelResponder

PROBLEM = data.Problem("p0", "甲乙丙三人中只有一人说真话。", [
    data.Question("选择题 1：谁说了真话？", ["甲", "乙", "丙"], "B"),
    data.Question("选择题 2：谁说了假话？", ["甲", "乙", "丙", "都不是"], "D"),
])


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from transformers import AutoTokenizer

    with TestServer(TinyModelResponder(tiny_model_dir), models=["tiny"]) as server:
        yield server, AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # a loopback server needs none


def test_rounds_chain_order_and_cache(tiny, tmp_path):
    server, tok = tiny
    texts = [prompts.render_prompt(tok, PROBLEM, q) for q in PROBLEM.questions]
    sampling = SamplingParams(max_new_tokens=5, temperature=1.0, top_p=1.0)
    asked, done = [], []

    def more(i, chains):
        asked.append((i, len(chains)))
        return 1 if len(chains) < 3 else 0

    engine = get_engine("openai", "tiny", tok, base_url=server.url, cache=tmp_path / "c.sqlite", concurrency=3)
    assert isinstance(engine, OpenAIEngine)
    before = len(server.log)
    out = engine.generate(texts, 2, sampling, more=more, on_done=lambda i, c: done.append((i, len(c))))
    new = server.log[before:]
    assert [len(c) for c in out] == [3, 3] and sorted(done) == [(0, 3), (1, 3)]
    assert sorted(asked) == [(0, 2), (0, 3), (1, 2), (1, 3)]
    assert len(new) == 6 and {e["kind"] for e in new} == {"completions"}
    assert len({(e["prompt_hash"], e["seed"]) for e in new}) == 6  # each chain its own seed
    assert all(0 < c.tokens <= 5 and c.logprob < 0 for cs in out for c in cs)
    assert engine.stats.requests == 6 and engine.stats.cached == 0

    # Same requests again with the cache: nothing sent, the same chains back.
    again = OpenAIEngine("tiny", base_url=server.url, cache=tmp_path / "c.sqlite")
    out2 = again.generate(texts, 2, sampling, more=lambda i, c: 1 if len(c) < 3 else 0)
    assert len(server.log) == before + 6
    assert [[c.text for c in cs] for cs in out2] == [[c.text for c in cs] for cs in out]
    assert again.stats.cached == 6 and again.stats.requests == 0


def test_option_scores_match_the_local_engine(tiny, tiny_model_dir, monkeypatch):
    from logictune import models
    from logictune.engines.hf import HFEngine

    server, tok = tiny
    monkeypatch.setattr(openai_engine, "_TOP_LOGPROBS", 10_000)  # the whole tiny vocabulary comes back
    direct = [prompts.render_direct_prompt(tok, PROBLEM, q) for q in PROBLEM.questions]
    cands = [list(q.letters) for q in PROBLEM.questions]
    served = OpenAIEngine("tiny", base_url=server.url).score_next_token(direct, cands)
    model, tokenizer = models.load_model(str(tiny_model_dir), dtype="fp32")
    local = HFEngine(model, tokenizer).score_next_token(direct, cands)
    assert [len(s) for s in served] == [3, 4]
    for a, b in zip(served, local, strict=True):
        assert a == pytest.approx(b, abs=1e-3)


def test_predict_runs_on_the_served_model(tiny, tmp_path):
    server, tok = tiny
    gold = tmp_path / "gold.jsonl"
    data.write_problems([PROBLEM], gold)
    engine = OpenAIEngine("tiny", base_url=server.url, concurrency=4)
    cfg = predict.PredictConfig(votes=2, adaptive=False, max_new_tokens=4)
    summary = predict.predict(data.load_problems(gold), engine, tok, tmp_path / "pred.jsonl", cfg)
    rows = [json.loads(line) for line in data.details_path(tmp_path / "pred.jsonl").read_text().splitlines()]
    assert summary["questions"] == 2 and len(rows) == 2
    assert all(len(r["samples"]) == 2 and r["answer"] in "ABCD" for r in rows)
    submitted = json.loads((tmp_path / "pred.jsonl").read_text().splitlines()[0])
    assert [q["answer"] for q in submitted["questions"]] == [r["answer"] for r in rows]


def test_messages_go_to_the_chat_endpoint(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    with TestServer() as server:
        engine = OpenAIEngine("m", base_url=server.url)
        [[c]] = engine.generate([prompts.build_teacher_messages(PROBLEM, PROBLEM.questions[1])], 1,
                                SamplingParams(max_new_tokens=50))
        with pytest.raises(NotImplementedError):
            engine.score_next_token([[{"role": "user", "content": "x"}]], [["A"]])
    assert [e["kind"] for e in server.log] == ["chat"]
    assert c.text.endswith("答案是：D") and c.tokens > 0


def test_engine_needs_a_model_name():
    with pytest.raises(ValueError, match="model"):
        OpenAIEngine(None)


def test_over_the_apis_stop_limit_the_text_is_cut_here_instead():
    n = 4
    sp = SamplingParams(max_new_tokens=50, stop=prompts.answer_stop_strings(n),
                        stop_regex=prompts.answer_stop_regex(n))
    assert len(sp.stop) > 4  # OpenAI's API rejects more than 4 stop strings with a 400
    assert "stop" not in OpenAIEngine("m", base_url="http://127.0.0.1:9").request("p", sp)
    assert OpenAIEngine("m", base_url="http://127.0.0.1:9", max_stop=None).request("p", sp)["stop"] == sp.stop
    few = SamplingParams(stop=["\n\n"])
    assert OpenAIEngine("m", base_url="http://127.0.0.1:9").request("p", few)["stop"] == ["\n\n"]

    chain = "1. 甲说真话。\n答案是：B\n如果答案是C，那么矛盾。\n答案是：C\n"
    cut = openai_engine.cut_at_stop(chain, sp.stop_regex)
    assert cut.startswith("1. 甲说真话。\n答案是：B") and "C" not in cut
    assert openai_engine.cut_at_stop(chain, None) == chain


def test_a_stop_string_the_server_left_out_is_put_back():
    """vLLM's server leaves the matched stop string out of the text (and the answer line with it), and names
    it in ``stop_reason``; other servers say only ``finish_reason: stop``."""
    from openai.types import Completion as APICompletion

    def reply(text, finish, **extra):
        return APICompletion.model_validate({
            "id": "c", "object": "text_completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "text": text, "finish_reason": finish, "logprobs": None, **extra}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}})

    assert openai_engine._parse(reply("1. 甲说真话。\n", "stop", stop_reason="答案是：B\n")).text == "1. 甲说真话。\n答案是：B\n"
    assert openai_engine._parse(reply("1. 甲说真话。\n", "stop", stop_reason=None)).text == "1. 甲说真话。\n"  # EOS
    assert openai_engine._parse(reply("答案是：B\n", "stop", stop_reason="答案是：B\n")).text == "答案是：B\n"
    assert openai_engine._parse(reply("1. 甲", "length", stop_reason=None)).text == "1. 甲"


# A chain that writes a hypothetical answer line before its real one (issue 15 item 10).
CONDITIONAL_CHAIN = "分析：如果答案是：B。那么甲说谎，矛盾。\n所以答案是：A。\n多余的话"


def _chain_responder(body: dict, seed: int):
    """Replies with the rest of CONDITIONAL_CHAIN after what the prompt already ends with: a model that
    writes the same chain whether asked once or asked to go on from part of it."""
    from logictune.testserver import Reply

    prompt = body["prompt"]
    done = next(k for k in range(len(CONDITIONAL_CHAIN), -1, -1) if prompt.endswith(CONDITIONAL_CHAIN[:k]))
    rest = CONDITIONAL_CHAIN[done:][: body["max_tokens"]]  # one token a character
    return Reply(rest, len(prompt), len(rest), [-0.1] * len(rest))


def test_a_stop_string_on_a_conditional_answer_line_does_not_end_the_chain():
    """The server stops on the plain stop strings (``--max-stop 0``, as vllm serve takes them all) and so on
    "如果答案是：B。"; the hf engine's regex passes over it. The engine goes on from the text so far and ends
    at the real answer line, as the hf engine would."""
    from logictune import voting

    sp = SamplingParams(max_new_tokens=100, temperature=0, stop=prompts.answer_stop_strings(4),
                        stop_regex=prompts.answer_stop_regex(4))
    with TestServer(_chain_responder) as server:
        engine = OpenAIEngine("m", base_url=server.url, max_stop=None)
        [[chain]] = engine.generate(["题目。\n"], 1, sp)
        asked = [e for e in server.log if e["status"] == 200]
    assert chain.text == "分析：如果答案是：B。那么甲说谎，矛盾。\n所以答案是：A。"
    assert voting.extract_answer(chain.text, 4) == "A" and chain.n_tokens == len(chain.text)
    assert len(asked) == 2  # the chain and its continuation
    # Without a budget left after the first stop, the chain ends there: no answer, decided by likelihood.
    with TestServer(_chain_responder) as server:
        short = SamplingParams(**{**sp.__dict__, "max_new_tokens": len("分析：如果答案是：B。")})
        [[chain]] = OpenAIEngine("m", base_url=server.url, max_stop=None).generate(["题目。\n"], 1, short)
    assert chain.text == "分析：如果答案是：B。" and len([e for e in server.log if e["status"] == 200]) == 1
    assert voting.extract_answer(chain.text, 4) is None


def test_a_blocking_callback_does_not_stall_the_requests_in_flight(monkeypatch):
    """distill --method program runs programs in ``more``/``on_done`` (seconds each): the replies still in
    flight must be received meanwhile, not wait for the callback."""
    import threading
    import time as _time

    from logictune.testserver import Reply, request_text

    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")

    def responder(body, seed):
        if "second" in request_text(body):
            _time.sleep(0.5)  # arrives while the first prompt's callback runs
        return Reply("答案是：A", 5, 3)

    replies, second_in = [], threading.Event()

    def progress(_prompts, tokens):
        if tokens:
            replies.append(tokens)
            if len(replies) == 2:
                second_in.set()

    seen = {}

    def on_done(i, chains):
        if i == 0:  # blocks like a sandbox run, until the other reply is in (or gives up)
            seen["second reply while blocked"] = second_in.wait(timeout=5)

    with TestServer(responder) as server:
        engine = OpenAIEngine("m", base_url=server.url, concurrency=2, progress=progress)
        engine.generate([[{"role": "user", "content": "first"}], [{"role": "user", "content": "second"}]], 1,
                        SamplingParams(max_new_tokens=8), on_done=on_done)
    assert seen == {"second reply while blocked": True}
