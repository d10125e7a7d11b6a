"""The transformers engine against plain `model.generate`: same tokens, whatever the batching does."""

from __future__ import annotations

import re
import warnings

import pytest
import torch

from logictune import data, models, prompts
from logictune.engines import SamplingParams, chain_seed
from logictune.engines.hf import _MIN_SHARED, HFEngine, _cache_from, _common_prefix


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


def trie_size(seqs) -> int:
    """Tokens in the trie of ``seqs``: what prefilling each distinct prefix once computes."""
    seqs = sorted(map(tuple, seqs))
    return sum(len(b) - _common_prefix(a, b) for a, b in zip([(), *seqs], seqs, strict=False))


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
    ids = [engine._ids(p) for p in real_prompts]
    everyone = min(_common_prefix(ids[0], x) for x in ids)
    assert any(_common_prefix(a, b) > everyone + 32 for a in ids for b in ids if a != b), \
        "questions of a problem share its statement"

    outs = engine.generate(real_prompts, n, SamplingParams(max_new_tokens=24, temperature=0))
    assert len(outs) == len(real_prompts)
    if batch_size > n:  # all prompts in one prefill: the instruction and each statement computed once
        # (shared prefixes that save under _MIN_SHARED tokens are computed again by each prompt: at most
        # that many tokens more per prompt)
        assert trie_size(ids) <= engine.prefilled_tokens <= trie_size(ids) + _MIN_SHARED * len(ids)
        assert engine.prefilled_tokens < 0.5 * sum(map(len, ids))
    for out, ref in zip(outs, refs, strict=True):
        assert len(out) == n
        for completion in out:
            assert completion.token_ids == ref
            assert completion.finish_reason == ("length" if len(ref) == 24 else "eos")


def test_the_instruction_and_a_shared_statement_are_prefilled_once_and_prompts_reused(tiny):
    model, tokenizer = tiny
    engine = HFEngine(model, tokenizer, batch_size=8)

    def prompt(statement: str, question: str) -> str:
        return (f"<|im_start|>system\n你是一个逻辑推理专家，擅长解决逻辑推理问题。<|im_end|>\n<|im_start|>user\n"
                f"{statement}\n{question}<|im_end|>\n<|im_start|>assistant\n")

    liars = "有甲、乙、丙三人，其中只有一人说了真话。甲说：乙在说谎。乙说：丙在说谎。丙说：甲和乙都在说谎。"
    race = "某班有五名同学参加比赛，名次各不相同。张三不是第一名，李四在王五之前，王五不是最后一名。"
    first = [prompt(liars, "谁说了真话？"), prompt(race, "谁是第一名？"), prompt(liars, "谁在说谎？")]
    ids = [engine._ids(p) for p in first]
    assert _common_prefix(ids[0], ids[2]) > _common_prefix(ids[0], ids[1]) + 20
    sp = SamplingParams(max_new_tokens=3, temperature=0)
    engine.generate(first, 2, sp)
    # The instruction once, the statement of both questions once, each question once; 2 chains, 1 prefill.
    assert engine.prefilled_tokens == trie_size(ids)
    assert engine.prefilled == 3
    # A later call computes only what no cached prefix holds (the instruction stays cached), and the
    # adaptive rounds of its prompts start from their cached KV.
    boxes = "三个盒子里分别装着红球、白球和黑球，每个盒子上的标签都贴错了。"
    second = [prompt(boxes, "红球在哪个盒子里？"), prompt(boxes, "白球在哪个盒子里？")]
    engine.generate(second, 1, sp, more=lambda i, c: 1 if len(c) < 3 else 0)
    assert engine.prefilled_tokens == trie_size(ids + [engine._ids(p) for p in second])
    assert engine.prefilled == 5


def test_logprobs_are_the_models_and_sampling_is_seeded(tiny, real_prompts):
    model, tokenizer = tiny
    engine = HFEngine(model, tokenizer, batch_size=8)
    sp = SamplingParams(max_new_tokens=8, temperature=1.0, top_p=1.0, top_k=0, seed=3)
    first = engine.generate(real_prompts[:2], 3, sp)
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


def test_a_chain_does_not_depend_on_batch_size_other_prompts_or_rounds(tiny, real_prompts):
    model, tokenizer = tiny
    params = [SamplingParams(max_new_tokens=10, temperature=1.0, top_p=0.95, top_k=32, seed=chain_seed(7, i))
              for i in range(len(real_prompts))]

    def run(batch_size, idx, n, more=None):
        outs = HFEngine(model, tokenizer, batch_size=batch_size).generate(
            [real_prompts[i] for i in idx], n, [params[i] for i in idx], more=more)
        return {i: [c.token_ids for c in o] for i, o in zip(idx, outs, strict=True)}

    everything = run(8, range(len(real_prompts)), 3)
    assert len({tuple(c) for o in everything.values() for c in o}) > len(real_prompts), "chains should vary"
    assert run(1, range(len(real_prompts)), 3) == everything  # another batch size
    assert run(5, [4, 1, 6], 3) == {i: everything[i] for i in (4, 1, 6)}  # a subset (--limit, resume)
    # Chains 0..2 drawn as one round, or as 1 then 2 more (adaptive voting): the same chains.
    rounds = run(3, range(len(real_prompts)), 1, more=lambda i, c: 2 if len(c) == 1 else 0)
    assert rounds == everything
    # Another seed, other chains.
    other = HFEngine(model, tokenizer, batch_size=8).generate(real_prompts[:1], 3, SamplingParams(
        max_new_tokens=10, temperature=1.0, top_p=0.95, top_k=32, seed=chain_seed(8, 0)))
    assert [c.token_ids for c in other[0]] != everything[0]


@pytest.mark.parametrize("bad", [{"top_p": 0.0}, {"top_p": 1.5}, {"temperature": -0.1},
                                 {"temperature": float("nan")}, {"top_k": -1}, {"max_new_tokens": 0}])
def test_sampling_params_are_validated(bad):
    with pytest.raises(ValueError):
        SamplingParams(**bad)


def test_stop_regex_ends_a_chain_at_the_answer_line(tiny, real_prompts):
    model, tokenizer = tiny
    engine = HFEngine(model, tokenizer, batch_size=4)
    greedy = engine.generate(real_prompts[:1], 1, SamplingParams(max_new_tokens=20, temperature=0))[0][0]
    # Stop on the text of tokens 5..6 of the greedy chain: it must end right where that text is complete.
    needle = tokenizer.decode(greedy.token_ids[5:7])
    first = next(k for k in range(1, 21) if needle in tokenizer.decode(greedy.token_ids[:k]))
    sp = SamplingParams(max_new_tokens=20, temperature=0, stop_regex=re.escape(needle))
    c = engine.generate(real_prompts[:1], 2, sp)[0][0]
    assert c.finish_reason == "stop"
    assert c.token_ids == greedy.token_ids[:first]


def test_a_match_the_lookbehind_skipped_never_stops_the_chain_later(tiny, real_prompts):
    """The stop regex skips a hypothetical (``如果答案是：B。``) by a lookbehind. When that context slides out of
    the decoded window, the old line must not stop the chain: only a match the newest token completes does."""
    from logictune.engines import STOP_WINDOW_TOKENS, stop_reached

    model, tokenizer = tiny
    engine = HFEngine(model, tokenizer, batch_size=4)
    n = STOP_WINDOW_TOKENS + 30
    greedy = engine.generate(real_prompts[:1], 1, SamplingParams(max_new_tokens=n, temperature=0))[0][0]
    ids = greedy.token_ids
    assert greedy.finish_reason == "length" and len(ids) == n
    text = tokenizer.decode(ids)
    context, needle = tokenizer.decode(ids[8:10]), tokenizer.decode(ids[10:12])
    assert text.count(context + needle) == 1 and context and needle
    skipped = f"(?<!{re.escape(context)}){re.escape(needle)}"  # the one place the needle is, the context skips
    c = engine.generate(real_prompts[:1], 1, SamplingParams(max_new_tokens=n, temperature=0, stop_regex=skipped))[0][0]
    assert c.finish_reason == "length" and c.token_ids == ids
    # The rule itself: a match ending before the newest token's text is an old one.
    stop = re.compile(r"(?<!如果)答案是：B。")
    assert stop_reached(stop, "所以答案是：B。", 1)
    assert not stop_reached(stop, "答案是：B。然后继续", 2)
    assert not stop_reached(stop, "如果答案是：B。", 1)


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
    finished = {tuple(engine._ids(p)) for p in real_prompts[:5]}
    assert engine._cache and not finished & set(engine._cache), "finished prompts leave, shared prefixes stay"


def test_forced_prompt_cache_evictions_change_nothing(tiny, real_prompts):
    model, tokenizer = tiny
    sp = SamplingParams(max_new_tokens=6, temperature=0)

    def more(i, c):
        return 1 if len(c) < 3 else 0

    kept = HFEngine(model, tokenizer, batch_size=3)
    evicting = HFEngine(model, tokenizer, batch_size=3, prompt_cache_size=0)
    a = kept.generate(real_prompts, 1, sp, more=more)
    b = evicting.generate(real_prompts, 1, sp, more=more)
    assert [[c.token_ids for c in o] for o in a] == [[c.token_ids for c in o] for o in b]
    assert evicting.prefilled > kept.prefilled == len(real_prompts)  # evicted prompts were computed again
    assert evicting.prefilled_tokens > kept.prefilled_tokens


def test_prompt_cache_is_sized_from_the_batch_so_no_prompt_is_prefilled_twice(tiny):
    model, tokenizer = tiny
    # 26 rows in flight: an admission prefills 26 prompts plus 52 of look-ahead; adaptive rounds come back.
    engine = HFEngine(model, tokenizer, batch_size=26)
    many = [f"<|im_start|>user\n第 {i} 题：甲乙丙谁说真话？<|im_end|>\n<|im_start|>assistant\n" for i in range(90)]
    engine.generate(many, 1, SamplingParams(max_new_tokens=2, temperature=0),
                    more=lambda i, c: 1 if len(c) < 2 else 0)
    assert engine.prefilled == len(many)


def test_engine_on_an_unmerged_peft_model_matches_its_generate_without_deprecated_arguments(
        tiny_model_dir, tiny_adapter, real_prompts):
    model, tokenizer = models.load_model(str(tiny_model_dir), dtype="fp32", adapter=str(tiny_adapter))
    assert type(model).__name__.startswith("Peft")
    with warnings.catch_warnings():
        # past_key_values is deprecated for `cache` (transformers 5.40 drops it): the engine must not use it.
        warnings.filterwarnings("error", message=".*past_key_values.*")
        outs = HFEngine(model, tokenizer, batch_size=4).generate(real_prompts[:3], 1,
                                                                   SamplingParams(max_new_tokens=12, temperature=0))
    eos = HFEngine(model, tokenizer).eos_ids
    for prompt, out in zip(real_prompts[:3], outs, strict=True):
        assert out[0].token_ids == reference(model, tokenizer, prompt, 12, eos)


def test_adapter_is_merged_at_load_and_answers_like_the_unmerged_one(tiny_model_dir, tiny_adapter, real_prompts):
    unmerged, tokenizer = models.load_model(str(tiny_model_dir), dtype="fp32", adapter=str(tiny_adapter))
    merged, _ = models.load_model(str(tiny_model_dir), dtype="fp32", adapter=str(tiny_adapter), merge=True)
    base, _ = models.load_model(str(tiny_model_dir), dtype="fp32")
    assert not hasattr(merged, "peft_config") and "lora" not in " ".join(n for n, _ in merged.named_modules())
    ids = tokenizer(real_prompts[0], return_tensors="pt", add_special_tokens=False).input_ids
    with torch.no_grad():
        want, got, plain = unmerged(ids).logits, merged(ids).logits, base(ids).logits
    assert torch.allclose(got, want, atol=1e-4)
    assert not torch.allclose(plain, want, atol=1e-2), "the adapter should change the model"


def test_cache_from_builds_the_models_layer_types():
    from transformers import DynamicCache, Qwen2Config

    config = Qwen2Config(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, use_sliding_window=True, sliding_window=4,
                         max_window_layers=1)
    kv = [(torch.zeros(1, 1, 6, 8), torch.zeros(1, 1, 6, 8)) for _ in range(2)]
    cache = _cache_from(kv, config)
    assert [type(x) for x in cache.layers] == [type(x) for x in DynamicCache(config=config).layers]
    assert len({type(x) for x in cache.layers}) == 2, "one sliding-window layer, one full-attention layer"
