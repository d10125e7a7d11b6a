"""The vLLM engine's own logic on a fake vllm (tests/fake_vllm.py), so CI covers it without vLLM: rounds draw
the chains one round would, each chain's seed is its own, stops cut where the hf engine stops, a stop on a
conditional answer line goes on, the adapter is served as a LoRA, option scores, and engines.build's vllm
branch. The real engine against real vLLM: test_engine_vllm.py (slow, needs vLLM)."""

from __future__ import annotations

import json

import pytest

from logictune import prompts, voting
from logictune.engines import SamplingParams
from tests import fake_vllm


def _engine(monkeypatch, script, scores=None, **options):
    fake = fake_vllm.install(monkeypatch, script, scores)
    from logictune.engines.vllm import VLLMEngine

    return VLLMEngine("model-dir", **options), fake


def _numbered(prompt: str, seed: int) -> str:
    return f"{prompt}:{seed % 100000}"  # the text names the prompt and the seed it was drawn with


def test_rounds_draw_the_same_chains_as_one_round_and_report_each_prompt_once(monkeypatch):
    engine, fake = _engine(monkeypatch, _numbered)
    prompts_ = ["p0", "p1", "p2"]
    sampling = [SamplingParams(max_new_tokens=50, seed=s) for s in (1, 2, 1)]
    at_once = [[c.text for c in chains] for chains in engine.generate(prompts_, 4, sampling)]
    assert all(len(set(chains)) == 4 for chains in at_once)  # every chain its own seed
    assert at_once[0] != at_once[1] and [t.split(":")[1] for t in at_once[0]] == \
        [t.split(":")[1] for t in at_once[2]]  # a prompt's seed, not its place in the batch, picks its chains

    done: list[int] = []
    rounds = engine.generate(prompts_, 2, sampling, more=lambda i, chains: 2 if i != 1 and len(chains) == 2 else 0,
                             on_done=lambda i, chains: done.append(i))
    texts = [[c.text for c in chains] for chains in rounds]
    assert texts[0] == at_once[0] and texts[2] == at_once[2] and texts[1] == at_once[1][:2]
    assert sorted(done) == [0, 1, 2]
    second = fake.llms[0].calls[-1]
    assert second[0] == ["p0", "p2"] and [p.n for p in second[1]] == [2, 2]  # only the prompts asked for more
    alone = engine.generate(["p2"], 4, sampling[2])
    assert [c.text for c in alone[0]] == at_once[2]  # nor do the other prompts change its chains


def test_the_stop_regex_cuts_where_the_hf_engine_stops(monkeypatch):
    engine, _ = _engine(monkeypatch, lambda p, s: "推理。\n答案是：A。\n多余的话")
    regex_only = SamplingParams(max_new_tokens=50, stop_regex=prompts.answer_stop_regex(4))
    [[chain]] = engine.generate(["q"], 1, regex_only)
    assert chain.text == "推理。\n答案是：A。" and chain.finish_reason == "stop" and chain.tokens == len(chain.text)
    both = SamplingParams(max_new_tokens=50, stop_regex=prompts.answer_stop_regex(4),
                          stop=prompts.answer_stop_strings(4))
    assert engine.generate(["q"], 1, both)[0][0].text == chain.text
    [[long]] = engine.generate(["q"], 1, SamplingParams(max_new_tokens=3))
    assert long.text == "推理。" and long.finish_reason == "length"


CHAIN = "分析：如果答案是：B。那么甲说谎，矛盾。\n所以答案是：A。\n多余的话"


def _goes_on(prompt: str, seed: int) -> str:
    """The rest of CHAIN after what the prompt already ends with."""
    return CHAIN[next(k for k in range(len(CHAIN), -1, -1) if prompt.endswith(CHAIN[:k])):]


def test_a_plain_stop_on_a_conditional_answer_line_goes_on_to_the_real_one(monkeypatch):
    engine, fake = _engine(monkeypatch, _goes_on)
    sp = SamplingParams(max_new_tokens=100, stop_regex=prompts.answer_stop_regex(4),
                        stop=prompts.answer_stop_strings(4))
    [[chain]] = engine.generate(["题目。\n"], 1, sp)
    assert chain.text == "分析：如果答案是：B。那么甲说谎，矛盾。\n所以答案是：A。" and chain.finish_reason == "stop"
    assert voting.extract_answer(chain.text, 4) == "A" and chain.tokens == len(chain.text)
    calls = fake.llms[0].calls
    assert [c[0] for c in calls] == [["题目。\n"], ["题目。\n分析：如果答案是：B。"]]
    assert calls[1][1][0].max_tokens == 100 - len("分析：如果答案是：B。")  # what is left of the budget
    # No budget left at the false stop: the chain ends there, without an answer.
    [[short]] = engine.generate(["题目。\n"], 1, SamplingParams(**{**sp.__dict__, "max_new_tokens": 11}))
    assert short.text == "分析：如果答案是：B。" and voting.extract_answer(short.text, 4) is None


def test_an_adapter_is_served_as_a_lora_and_scores_come_from_the_top_logprobs(monkeypatch, tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 4}))
    engine, fake = _engine(monkeypatch, _numbered, scores=lambda p: {"A": -0.5, "B": -2.0}, adapter=str(adapter),
                           batch_size=8, seed=3)
    llm = fake.llms[0]
    assert llm.kwargs["enable_lora"] and llm.kwargs["max_lora_rank"] == 8 and llm.kwargs["max_loras"] == 1
    assert llm.kwargs["max_num_seqs"] == 8 and llm.kwargs["seed"] == 3 and llm.kwargs["enforce_eager"]
    engine.generate(["p"], 1, SamplingParams())
    assert llm.calls[-1][2].lora_path == str(adapter)
    assert engine.score_next_token(["p"], [["A", "B", "C"]]) == [[-0.5, -2.0, -1e4]]


@pytest.mark.parametrize("saved", [True, False])
def test_build_gives_vllm_the_adapters_tokenizer_when_it_saved_one(monkeypatch, tmp_path, saved):
    from logictune import models
    from logictune.engines import build

    fake_vllm.install(monkeypatch, _numbered)
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 8}))
    if saved:
        (adapter / "tokenizer_config.json").write_text("{}")
    monkeypatch.setattr(models, "load_tokenizer", lambda spec: fake_vllm.CharTokenizer() if spec else None)
    loaded: list[str] = []
    real = models.load_tokenizer
    monkeypatch.setattr(models, "load_tokenizer", lambda spec: loaded.append(spec) or real(spec))
    monkeypatch.setattr(models, "resolve_model", lambda spec: f"/models/{spec}")
    built = build.build_engine(build.EngineChoice("vllm", "m", adapter, dtype="fp32", seed=5,
                                                  tensor_parallel_size=2))
    assert loaded == [str(adapter) if saved else "m"] and built.dtype == "float32"
    llm = built.engine.llm
    assert llm.model == "/models/m" and llm.kwargs["tensor_parallel_size"] == 2 and llm.kwargs["seed"] == 5
