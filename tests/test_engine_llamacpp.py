"""The llama.cpp engine: sampling rules (no llama.cpp needed), then the real GGUF when `make llamacpp` built it."""

from __future__ import annotations

import dataclasses
import json
import random

import numpy as np
import pytest

from logictune import data, predict, prompts
from logictune.engines import SamplingParams
from logictune.engines.llamacpp import _has_amx, _pick

LOGITS = np.log(np.array([0.5, 0.3, 0.15, 0.05], dtype=np.float32))


def test_greedy_takes_the_argmax_and_reports_its_untempered_logprob():
    token, logprob = _pick(LOGITS, SamplingParams(temperature=0), random.Random(0))
    assert token == 0 and logprob == pytest.approx(np.log(0.5), abs=1e-5)


def test_top_k_and_top_p_bound_what_can_be_drawn():
    draws = {_pick(LOGITS, SamplingParams(temperature=1.0, top_k=2, top_p=1.0), random.Random(s))[0] for s in range(300)}
    assert draws == {0, 1}
    # top_p 0.7: the smallest set of tokens reaching 0.7 is {0, 1} (0.5, then 0.8)
    draws = {_pick(LOGITS, SamplingParams(temperature=1.0, top_k=0, top_p=0.7), random.Random(s))[0] for s in range(300)}
    assert draws == {0, 1}
    draws = [_pick(LOGITS, SamplingParams(temperature=1.0, top_k=0, top_p=1.0), random.Random(s))[0] for s in range(2000)]
    assert set(draws) == {0, 1, 2, 3} and abs(draws.count(0) / 2000 - 0.5) < 0.05
    assert _pick(LOGITS, SamplingParams(temperature=1.0, top_k=0), random.Random(7)) == \
        _pick(LOGITS, SamplingParams(temperature=1.0, top_k=0), random.Random(7))


def test_amx_is_read_from_the_cpu_flags(tmp_path):
    # The engine turns llama.cpp's repacked weights off on AMX CPUs (its AMX matmul segfaulted on one).
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f amx_bf16 amx_tile amx_int8 arch_capabilities\n")
    assert _has_amx(str(info))
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_vnni\n")
    assert not _has_amx(str(info))
    assert not _has_amx(str(tmp_path / "missing"))


# ---------------------------------------------------------------- the real GGUF


@pytest.fixture(scope="module")
def real(real_train_file):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not built (make llamacpp)")
    from logictune import models
    from logictune.engines.llamacpp import LlamaCppEngine

    engine = LlamaCppEngine(models.gguf_file("qwen2.5-coder-0.5b"))
    yield engine, models.load_tokenizer("qwen2.5-coder-0.5b"), data.load_problems(real_train_file)
    engine.close()


@pytest.mark.slow
def test_chains_are_seeded_reused_prefixes_keep_greedy_tokens_and_stops_hold(real):
    engine, tok, problems = real
    p = next(p for p in problems if len(p.questions) >= 2)
    texts = [prompts.render_program_prompt(tok, p, q) for q in p.questions[:2]]
    sp = SamplingParams(max_new_tokens=24, temperature=0.7, seed=3, stop_regex=prompts.PROGRAM_STOP_REGEX)
    asked = []

    def more(i, completions):
        asked.append((i, len(completions)))
        return 1 if len(completions) < 3 else 0

    engine.reset_cache()
    first = engine.generate(texts, 2, sp, more=more)
    assert asked == [(0, 2), (0, 3), (1, 2), (1, 3)] and [len(c) for c in first] == [3, 3]
    engine.reset_cache()  # the same cache history: every seeded chain again, token for token
    again = engine.generate(texts, 3, sp)
    assert [[(c.text, c.token_ids, c.logprob) for c in cs] for cs in first] == \
        [[(c.text, c.token_ids, c.logprob) for c in cs] for cs in again]
    # Another order leaves other prefixes in the cache, prefilled in other chunks: the log-probs move a little
    # (up to 0.21 nats of ~7 measured), which can flip a sampled draw (it did on an AVX-512 Zen 4), not these
    # greedy tokens.
    greedy = dataclasses.replace(sp, temperature=0.0)
    forward = engine.generate(texts, 1, greedy)
    backward = engine.generate(texts[::-1], 1, greedy)[::-1]
    for a, b in zip(forward, backward, strict=True):
        assert [(c.text, c.token_ids) for c in a] == [(c.text, c.token_ids) for c in b]
        assert [c.logprob for c in a] == pytest.approx([c.logprob for c in b], rel=0.05, abs=0.3)
    assert len({c.text for c in first[0]}) > 1, "sampled chains differ"
    assert all(c.finish_reason in ("length", "stop", "eos") and 0 < c.tokens <= 24 for cs in first for c in cs)
    stopped = engine.generate([texts[0]], 1,
                              SamplingParams(max_new_tokens=40, temperature=0, stop_regex=r"\n"))
    assert stopped[0][0].finish_reason == "stop" and stopped[0][0].text.endswith("\n")


@pytest.mark.slow
def test_option_scores_rank_like_the_hf_engine(real):
    engine, tok, problems = real
    from logictune import models
    from logictune.engines.hf import HFEngine

    qs = [(p, q) for p in problems[:4] for q in p.questions][:4]
    texts = [prompts.render_direct_prompt(tok, p, q) for p, q in qs]
    letters = [list(q.letters) for _, q in qs]
    ours = engine.score_next_token(texts, letters)
    model, hf_tok = models.load_model("qwen2.5-coder-0.5b", dtype="fp32")
    theirs = HFEngine(model, hf_tok).score_next_token(texts, letters)
    # The same Q4_K_M weights, dequantised for hf: log-probs agree closely, and so does the chosen letter.
    for a, b in zip(ours, theirs, strict=True):
        assert np.argmax(a) == np.argmax(b) or max(b) - sorted(b)[-2] < 0.1
        assert np.abs(np.array(a) - np.array(b)).max() < 0.5


@pytest.mark.slow
def test_predict_program_runs_on_llamacpp(real, tmp_path):
    engine, tok, problems = real
    gold = tmp_path / "gold.jsonl"
    data.write_problems(problems[:1], gold)
    out = tmp_path / "pred.jsonl"
    cfg = predict.PredictConfig(method="program", votes=2, adaptive=False, max_new_tokens=160, temperature=0.5)
    predict.predict(data.load_problems(gold), engine, tok, out, cfg)
    rows = [json.loads(x) for x in data.details_path(out).read_text().splitlines()]
    assert len(rows) == len(problems[0].questions)
    assert all(len(r["samples"]) == 2 and r["answer"] in "ABCDEFG" for r in rows)
    assert any(s["status"] != "no_code" for r in rows for s in r["samples"]), "the model writes code blocks"
