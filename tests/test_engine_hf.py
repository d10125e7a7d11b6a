"""The transformers engine against plain `model.generate`: same tokens, whatever the batching does."""

from __future__ import annotations

import pytest
import torch

from logictune import data, models, prompts
from logictune.engines import SamplingParams
from logictune.engines.hf import HFEngine, _prefix_groups


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    model, tokenizer = models.load_model(str(tiny_model_dir), dtype="fp32")
    # Default init makes a 2-layer model repeat one token forever; larger weights give varied text.
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() == 2:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)
    return model, tokenizer


@pytest.fixture(scope="module")
def real_prompts(tiny, real_train_file):
    _, tokenizer = tiny
    problems = data.load_problems(real_train_file)[:4]
    pairs = [(p, q) for p in problems for q in p.questions][:7]
    return [prompts.render_prompt(tokenizer, p, q) for p, q in pairs]


def reference(model, tokenizer, prompt: str, max_new_tokens: int, eos: set[int]) -> list[int]:
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=None)
    new = out[0, ids.input_ids.shape[1]:].tolist()
    return new[: next((i for i, t in enumerate(new) if t in eos), len(new))]


@pytest.mark.parametrize("batch_size,n", [(1, 1), (4, 2), (16, 3)])
def test_greedy_matches_generate_with_refill_and_shared_prefixes(tiny, real_prompts, batch_size, n):
    model, tokenizer = tiny
    engine = HFEngine(model, tokenizer, batch_size=batch_size)
    # A frequent token as EOS makes rows finish at different steps, so the pool retires and refills.
    refs = [reference(model, tokenizer, p, 24, set()) for p in real_prompts]
    # The token whose first appearance varies most across prompts, and never comes first.
    def firsts(tok):
        return [r.index(tok) if tok in r else len(r) for r in refs]

    candidates = {t for r in refs for t in r[1:]}
    engine.eos_ids = {max(candidates, key=lambda t: (min(firsts(t)) > 0, len(set(firsts(t)))))}
    refs = [reference(model, tokenizer, p, 24, engine.eos_ids) for p in real_prompts]
    assert len({len(r) for r in refs}) > 1, "rows should finish at different steps"
    groups = _prefix_groups([engine._ids(p) for p in real_prompts], engine.min_shared_prefix)
    assert any(cut > 0 and len(members) > 1 for members, cut in groups), "questions of a problem share a prefix"

    outs = engine.generate(real_prompts, n, SamplingParams(max_new_tokens=24, temperature=0))
    assert len(outs) == len(real_prompts)
    if batch_size > n:  # several prompts per admission: the instruction they share was computed once
        assert engine._base_keys and all(len(k) >= engine.min_shared_prefix for k in engine._base_keys)
    for out, ref in zip(outs, refs, strict=True):
        assert len(out) == n
        for completion in out:
            assert completion.token_ids == ref
            assert completion.finish_reason == ("length" if len(ref) == 24 else "eos")


def test_prefix_groups_share_problem_statements_not_just_the_instruction():
    instruction = list(range(40))
    a = instruction + [100] * 60 + [1, 2]
    b = instruction + [100] * 60 + [3, 4, 5]
    c = instruction + [200] * 60 + [6]
    groups = _prefix_groups([a, b, c], 32)
    assert sorted((sorted(m), cut) for m, cut in groups) == [([0, 1], 100), ([2], 0)]


def test_logprobs_are_the_models_and_sampling_is_seeded(tiny, real_prompts):
    model, tokenizer = tiny
    engine = HFEngine(model, tokenizer, batch_size=8)
    sp = SamplingParams(max_new_tokens=8, temperature=1.0, top_p=1.0, top_k=0, seed=3)
    first = engine.generate(real_prompts[:2], 3, sp)
    again = HFEngine(model, tokenizer, batch_size=2).generate(real_prompts[:2], 3, sp)
    # Different batching, same seed: the draws come in another order, so only the counts must agree.
    assert len(again) == len(first) and all(len(o) == 3 for o in again)
    repeat = HFEngine(model, tokenizer, batch_size=8).generate(real_prompts[:2], 3, sp)
    assert [c.token_ids for o in first for c in o] == [c.token_ids for o in repeat for c in o]
    # Recompute the sum of log-probs of one sampled completion with a plain forward pass.
    c = first[0][0]
    ids = tokenizer(real_prompts[0], return_tensors="pt", add_special_tokens=False).input_ids
    full = torch.cat([ids, torch.tensor([c.token_ids])], dim=1)
    with torch.no_grad():
        logprobs = torch.log_softmax(model(full).logits[0].float(), -1)
    expected = sum(logprobs[ids.shape[1] - 1 + i, t].item() for i, t in enumerate(c.token_ids))
    assert c.logprob == pytest.approx(expected, abs=1e-3)
    chains = {tuple(c.token_ids) for c in first[0]}
    assert len(chains) > 1, "three chains at temperature 1 should not all be equal"


def test_stop_regex_ends_a_chain_at_the_answer_line(tiny):
    model, tokenizer = tiny
    engine = HFEngine(model, tokenizer, batch_size=4)
    # Any text containing a byte-level "a" stops: the chain must end right where the match appears.
    sp = SamplingParams(max_new_tokens=40, temperature=1.0, top_k=0, seed=1, stop_regex="[0-9]")
    outs = engine.generate(["<|im_start|>user\n1+1=<|im_end|>\n<|im_start|>assistant\n"], 4, sp)
    for c in outs[0]:
        if c.finish_reason == "stop":
            assert any(ch.isdigit() for ch in c.text)
            assert not any(ch.isdigit() for ch in tokenizer.decode(c.token_ids[:-1]))


def test_score_next_token_matches_a_forward_pass(tiny, real_prompts):
    model, tokenizer = tiny
    engine = HFEngine(model, tokenizer, batch_size=3)
    scores = engine.score_next_token(real_prompts[:4], [list("ABCD")] * 4)
    for prompt, row in zip(real_prompts[:4], scores, strict=True):
        ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
        with torch.no_grad():
            logprobs = torch.log_softmax(model(ids).logits[0, -1].float(), -1)
        letter_ids = [tokenizer(x, add_special_tokens=False).input_ids[0] for x in "ABCD"]
        assert row == pytest.approx([logprobs[i].item() for i in letter_ids], abs=1e-4)


def test_more_adds_chains_from_the_cached_prompt_and_on_done_reports_each_prompt_once(tiny, real_prompts):
    model, tokenizer = tiny
    engine = HFEngine(model, tokenizer, batch_size=4)
    asked, done = [], []

    def more(i, completions):
        asked.append((i, len(completions)))
        return 2 if len(completions) == 1 else 0

    sp = SamplingParams(max_new_tokens=6, temperature=0)
    outs = engine.generate(real_prompts[:5], 1, sp, more=more, on_done=lambda i, c: done.append((i, len(c))))
    assert sorted(done) == [(i, 3) for i in range(5)]
    assert sorted(asked) == sorted([(i, 1) for i in range(5)] + [(i, 3) for i in range(5)])
    for out in outs:  # greedy: the extra chains, started from the cached prompt, equal the first
        assert len(out) == 3 and out[0].token_ids == out[1].token_ids == out[2].token_ids
    assert not engine._prompt_cache, "finished prompts leave the cache"
