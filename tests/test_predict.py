"""predict: rounds, voting, fallback, resume after a kill, submission shape."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys

import pytest
import torch
from typer.testing import CliRunner

from logictune import data, models, predict, runfiles
from logictune.cli import app
from logictune.engines import Completion, Engine
from logictune.engines.hf import HFEngine


def write_problems(path, n_problems=5, questions=(2, 1, 3, 1, 2), options=4):
    rows = []
    for i in range(n_problems):
        rows.append({
            "id": f"p{i}", "problem": f"题目 {i}：甲乙丙三人中只有一人说真话。", "note": {"keep": i},
            "questions": [
                {"question": f"选择题 {j + 1}:\n第 {j + 1} 问：谁说了真话？", "options": [f"选项{k}" for k in range(options)],
                 "answer": "ABCD"[(i + j) % options]}
                for j in range(questions[i % len(questions)])
            ],
        })
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


class ScriptedEngine:
    """Chains from a script: ``letter_for(prompt, chain_no)`` is the letter a chain states (None: no answer).

    Follows the engine protocol: asks ``more`` after each prompt's chains and reports it to ``on_done``.
    """

    def __init__(self, letter_for, scores=None, fail_after_prompts=None):
        self.letter_for = letter_for  # (prompt text, chain number) -> letter or None
        self.scores = scores or [0.0, 2.0, 1.0, -1.0, -3.0]
        self.calls: list[tuple[int, int]] = []
        self.fail_after_prompts = fail_after_prompts
        self.prompts_seen = 0
        self.drawn: dict[str, int] = {}

    def generate(self, prompts, n, sampling, *, more=None, on_done=None):
        self.calls.append((len(prompts), n))
        results = [[] for _ in prompts]
        for i, p in enumerate(prompts):
            k = n
            while k:
                if self.fail_after_prompts is not None and self.prompts_seen >= self.fail_after_prompts:
                    raise KeyboardInterrupt("simulated kill")
                for _ in range(k):
                    drawn = self.drawn.get(p, 0)
                    self.drawn[p] = drawn + 1
                    letter = self.letter_for(p, drawn)
                    text = f"分析……\n答案是：{letter}" if letter else "我不知道。"
                    results[i].append(Completion(text, list(range(10)), -5.0 - drawn))
                k = more(i, results[i]) if more else 0
            self.prompts_seen += 1
            if on_done:
                on_done(i, results[i])
        return results

    def score_next_token(self, prompts, candidates):
        return [self.scores[: len(c)] for c in candidates]


def test_fixed_votes_majority_and_submission_shape(tmp_path):
    gold = write_problems(tmp_path / "gold.jsonl")
    problems = data.load_problems(gold)
    engine = ScriptedEngine(lambda p, k: "ABACA"[k])
    cfg = predict.PredictConfig(votes=5, adaptive=False)
    out = tmp_path / "pred.jsonl"
    summary = predict.predict(problems, engine, tokenizer=_FakeTokenizer(), out=out, cfg=cfg)
    rows = [json.loads(line) for line in data.details_path(out).read_text().splitlines()]
    assert len(rows) == summary["questions"] == 9
    assert all(r["votes"] == {"A": 3, "B": 1, "C": 1} and r["answer"] == "A" and not r["fallback"] for r in rows)
    assert all(len(r["samples"]) == 5 for r in rows)
    submitted = [json.loads(line) for line in out.read_text().splitlines()]
    original = [json.loads(line) for line in gold.read_text().splitlines()]
    assert [s["id"] for s in submitted] == [o["id"] for o in original]
    for s, o in zip(submitted, original, strict=True):
        assert s["note"] == o["note"] and s["problem"] == o["problem"]
        assert [q["question"] for q in s["questions"]] == [q["question"] for q in o["questions"]]
        assert all(q["answer"] == "A" for q in s["questions"])


def test_adaptive_stops_early_on_agreement_and_spends_budget_on_disagreement(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=2, questions=(1,)))
    # p0 always says B; p1 alternates A, C, A, C, ... and never settles.
    engine = ScriptedEngine(lambda p, k: "B" if "题目 0" in p else "AC"[k % 2])
    cfg = predict.PredictConfig(votes=5, adaptive=True, first_round=2, confidence=0.85)
    out = tmp_path / "pred.jsonl"
    predict.predict(problems, engine, _FakeTokenizer(), out, cfg)
    rows = {r["id"]: r for r in map(json.loads, data.details_path(out).read_text().splitlines())}
    assert len(rows["p0"]["samples"]) == 2 and rows["p0"]["answer"] == "B"
    assert len(rows["p1"]["samples"]) == 5 and rows["p1"]["votes"] == {"A": 3, "C": 2}


def test_no_answer_in_any_chain_falls_back_to_option_likelihood(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=1, questions=(2,)))
    engine = ScriptedEngine(lambda p, k: None, scores=[0.0, -1.0, 3.0, 1.0])
    out = tmp_path / "pred.jsonl"
    predict.predict(problems, engine, _FakeTokenizer(), out, predict.PredictConfig(votes=3, adaptive=False))
    rows = [json.loads(line) for line in data.details_path(out).read_text().splitlines()]
    assert [r["answer"] for r in rows] == ["C", "C"]
    assert all(r["fallback"] and r["votes"] == {} for r in rows)
    assert rows[0]["option_probs"]["C"] == pytest.approx(max(rows[0]["option_probs"].values()))


def test_direct_method_scores_letters_without_sampling(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=3))
    engine = ScriptedEngine(lambda p, k: "A", scores=[0.0, 2.0, 1.0, -1.0])
    out = tmp_path / "pred.jsonl"
    predict.predict(problems, engine, _FakeTokenizer(), out, predict.PredictConfig(method="direct"))
    rows = [json.loads(line) for line in data.details_path(out).read_text().splitlines()]
    assert engine.calls == []
    assert all(r["answer"] == "B" and r["samples"] == [] and not r["fallback"] for r in rows)


def test_resume_after_kill_neither_duplicates_nor_misses(tmp_path):
    gold = write_problems(tmp_path / "gold.jsonl", n_problems=12)
    problems = data.load_problems(gold)
    cfg = predict.PredictConfig(votes=3, adaptive=False, chunk_questions=4)
    out = tmp_path / "pred.jsonl"
    killed = ScriptedEngine(lambda p, k: "D", fail_after_prompts=9)
    with pytest.raises(KeyboardInterrupt):
        predict.predict(problems, killed, _FakeTokenizer(), out, cfg)
    partial = [json.loads(line) for line in data.details_path(out).read_text().splitlines()]
    assert 0 < len(partial) < sum(len(p.questions) for p in problems)
    assert not out.exists(), "no submission before every question is answered"
    # A kill in the middle of a write leaves half a line: it must be dropped, not crash the resume.
    with open(data.details_path(out), "a", encoding="utf-8") as f:
        f.write('{"id": "p9", "question_ind')
    resumed = ScriptedEngine(lambda p, k: "D")
    summary = predict.predict(problems, resumed, _FakeTokenizer(), out, cfg)
    rows = [json.loads(line) for line in data.details_path(out).read_text().splitlines()]
    keys = [(r["id"], r["question_index"]) for r in rows]
    assert len(keys) == len(set(keys)) == sum(len(p.questions) for p in problems)
    assert summary["resumed"] == len(partial)
    assert resumed.prompts_seen == summary["answered_now"] == len(keys) - len(partial)
    # Rerunning a finished job answers nothing again.
    again = ScriptedEngine(lambda p, k: "D")
    predict.predict(problems, again, _FakeTokenizer(), out, cfg)
    assert again.calls == []


def test_resume_refuses_other_settings(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=2))
    out = tmp_path / "pred.jsonl"
    predict.predict(problems, ScriptedEngine(lambda p, k: "A"), _FakeTokenizer(), out,
                    predict.PredictConfig(votes=3, adaptive=False))
    with pytest.raises(ValueError, match="votes: 3 -> 5"):
        predict.predict(problems, ScriptedEngine(lambda p, k: "A"), _FakeTokenizer(), out,
                        predict.PredictConfig(votes=5, adaptive=False))
    predict.predict(problems, ScriptedEngine(lambda p, k: "B"), _FakeTokenizer(), out,
                    predict.PredictConfig(votes=5, adaptive=False), overwrite=True)
    assert all(q["answer"] == "B" for r in map(json.loads, out.read_text().splitlines()) for q in r["questions"])


def test_predict_and_evaluate_cli_with_tiny_model(tmp_path, tiny_model_dir, real_train_file):
    sample = tmp_path / "sample.jsonl"
    sample.write_text("".join(real_train_file.read_text(encoding="utf-8").splitlines(keepends=True)[:3]),
                      encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    runner = CliRunner()
    result = runner.invoke(app, ["predict", "--model", str(tiny_model_dir), "--data", str(sample), "--out", str(out),
                                 "--votes", "3", "--max-new-tokens", "8", "--batch-size", "6"])
    assert result.exit_code == 0, result.output
    assert "by option likelihood" in " ".join(result.output.split())
    problems = data.load_problems(sample)
    rows = [json.loads(line) for line in data.details_path(out).read_text().splitlines()]
    assert len(rows) == sum(len(p.questions) for p in problems)
    letters = {(p.id, i): q.letters for p in problems for i, q in enumerate(p.questions)}
    for r in rows:
        assert r["answer"] in letters[(r["id"], r["question_index"])]
        # A random model writes no answer line: every question is decided by the option likelihoods,
        # after the whole budget was spent trying (no answered chain can stop it early).
        assert r["fallback"] and r["votes"] == {} and len(r["samples"]) == 3
        assert r["answer"] == max(r["option_probs"], key=r["option_probs"].get)
    run = json.loads(runfiles.run_path(out).read_text())
    # dtype auto: bf16 where the CPU has native bf16 (AVX512-BF16, AMX), else fp32
    auto = str(models.pick_dtype("auto", "cpu")).removeprefix("torch.")
    assert run["engine"] == "hf" and run["dtype"] == auto and run["model"] == str(tiny_model_dir)
    result = runner.invoke(app, ["evaluate", "--pred", str(out), "--gold", str(sample), "--report", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("accuracy: ")
    assert (tmp_path / "r" / "report.md").exists()


def test_hf_engine_has_the_protocols_signature():
    for method in ("generate", "score_next_token"):
        want = inspect.signature(getattr(Engine, method))
        got = inspect.signature(getattr(HFEngine, method))
        assert list(got.parameters) == list(want.parameters), method
        assert [p.kind for p in got.parameters.values()] == [p.kind for p in want.parameters.values()], method


# ---------------------------------------------------------------- resume, lock, engines that only report


def test_a_torn_last_line_is_dropped_but_a_bad_line_before_it_is_an_error(tmp_path):
    path = tmp_path / "pred.details.jsonl"
    good = [{"id": f"p{i}", "question_index": 0, "answer": "A"} for i in range(3)]
    lines = [json.dumps(r) + "\n" for r in good]
    path.write_text("".join(lines) + '{"id": "p3", "quest', encoding="utf-8")
    assert runfiles.read_details(path) == good
    assert path.read_text(encoding="utf-8") == "".join(lines), "the torn line is truncated away"
    # A complete last line without its newline is dropped too: appending after it would corrupt both.
    path.write_text("".join(lines) + json.dumps({"id": "p3", "question_index": 0}), encoding="utf-8")
    assert runfiles.read_details(path) == good
    path.write_text(lines[0] + "{not json\n" + "".join(lines[1:]), encoding="utf-8")
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}:2: invalid JSON"):
        runfiles.read_details(path)
    assert path.read_text(encoding="utf-8").count("\n") == 4, "rows after a bad line are left alone"
    path.write_text(lines[0] + '{"id": "p9"}\n' + "".join(lines[1:]), encoding="utf-8")
    with pytest.raises(ValueError, match=":2: a details row needs"):
        runfiles.read_details(path)


def test_resume_refuses_details_without_a_run_file_and_another_engine_or_dtype(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=2))
    out = tmp_path / "pred.jsonl"
    cfg = predict.PredictConfig(votes=1, adaptive=False)
    info = {"model": "m", "engine": "hf", "dtype": "float32"}
    predict.predict(problems, ScriptedEngine(lambda p, k: "A"), _FakeTokenizer(), out, cfg, run_info=info)
    for changed, message in (({"engine": "vllm"}, "engine: 'hf' -> 'vllm'"),
                             ({"dtype": "bfloat16"}, "dtype: 'float32' -> 'bfloat16'")):
        with pytest.raises(ValueError, match=re.escape(message)):
            predict.predict(problems, ScriptedEngine(lambda p, k: "A"), _FakeTokenizer(), out, cfg,
                            run_info={**info, **changed})
    runfiles.run_path(out).unlink()
    with pytest.raises(ValueError, match="settings that made it are unknown"):
        predict.predict(problems, ScriptedEngine(lambda p, k: "A"), _FakeTokenizer(), out, cfg, run_info=info)


def test_resume_refuses_a_setting_recorded_before_and_absent_now_and_an_out_predict_did_not_write(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=2))
    out = tmp_path / "pred.jsonl"
    cfg = predict.PredictConfig(votes=1, adaptive=False)
    predict.predict(problems, ScriptedEngine(lambda p, k: "A"), _FakeTokenizer(), out, cfg,
                    run_info={"model": "m", "few_shot": 2})
    with pytest.raises(ValueError, match=re.escape("few_shot: 2 -> None")):  # a few-shot run resumed zero-shot
        predict.predict(problems, ScriptedEngine(lambda p, k: "A"), _FakeTokenizer(), out, cfg, run_info={"model": "m"})
    theirs = tmp_path / "theirs.jsonl"  # not predict's: no details beside it, no run record
    theirs.write_text("someone's file\n", encoding="utf-8")
    with pytest.raises(ValueError, match="settings that made it are unknown"):
        predict.predict(problems, ScriptedEngine(lambda p, k: "A"), _FakeTokenizer(), theirs, cfg)
    assert theirs.read_text(encoding="utf-8") == "someone's file\n"


def test_a_second_run_on_the_same_out_refuses_and_names_the_holder(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=1))
    out = tmp_path / "pred.jsonl"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from logictune import runfiles\n"
         "with runfiles.lock_output(sys.argv[1]):\n    print('locked', flush=True); time.sleep(60)", str(out)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ValueError, match=rf"process {holder.pid}\b"):
            predict.predict(problems, ScriptedEngine(lambda p, k: "A"), _FakeTokenizer(), out,
                            predict.PredictConfig(votes=1, adaptive=False))
        assert not data.details_path(out).exists()
    finally:
        holder.kill()
        holder.wait()
    # The lock dies with its holder: no stale lock file blocks the next run.
    predict.predict(problems, ScriptedEngine(lambda p, k: "A"), _FakeTokenizer(), out,
                    predict.PredictConfig(votes=1, adaptive=False))
    assert out.exists()


class OnlyDoneEngine(ScriptedEngine):
    """Never calls ``more``: the completions reach predict only through ``on_done``."""

    def generate(self, prompts, n, sampling, *, more=None, on_done=None):
        return super().generate(prompts, n, sampling, more=None, on_done=on_done)


def test_completions_are_taken_from_on_done(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=2))
    out = tmp_path / "pred.jsonl"
    predict.predict(problems, OnlyDoneEngine(lambda p, k: "C"), _FakeTokenizer(), out,
                    predict.PredictConfig(votes=3, adaptive=True))
    rows = [json.loads(line) for line in data.details_path(out).read_text().splitlines()]
    assert rows and all(not r["fallback"] and r["votes"] == {"C": 2} and r["answer"] == "C" for r in rows)


def test_config_rejects_bad_sampling_before_any_model_loads():
    for bad in ({"top_p": 0}, {"top_p": 1.01}, {"temperature": -1}, {"first_round": 0}):
        with pytest.raises(ValueError):
            predict.PredictConfig(**bad)


# ---------------------------------------------------------------- the real engine, chains that answer


def answering(model, tokenizer, letters="ABCD"):
    """Make the tiny model write answer lines: after the prompt's last newline it writes "答案是：X。"
    (X mostly A, sometimes another letter or E, which is no option here) or "不知道。" (no answer), then
    EOS. A forward hook adds a bias to the last position's logits by its token (a bigram table), so
    the engine's prefill, KV caches, pool, sampling and stops all run as they do on a real model."""
    V = model.config.vocab_size
    bias = torch.zeros(V, V)

    def ids(text):
        return tokenizer(text, add_special_tokens=False).input_ids

    newline, eos = ids("\n")[-1], tokenizer.convert_tokens_to_ids("<|im_end|>")

    def path(start, text, first_weight):
        prev = start
        for k, t in enumerate(ids(text)):
            bias[prev, t] = first_weight if k == 0 else 40.0
            prev = t
        return prev

    colon = path(newline, "答案是：", 40.0)
    path(newline, "不知道。", 38.3)
    for letter, weight in zip(letters + "E", [40.0] + [38.5] * len(letters), strict=True):
        bias[colon, ids(letter)[0]] = weight
        bias[ids(letter)[0], ids("。")[0]] = 40.0
    bias[ids("。")[0], eos] = 40.0

    def hook(module, args, kwargs, output):
        output.logits[:, -1] += bias[kwargs["input_ids"][:, -1]].to(output.logits.dtype)
        return output

    return model.register_forward_hook(hook, with_kwargs=True)


@pytest.fixture(scope="module")
def answering_tiny(tiny_model_dir):
    from logictune import models

    model, tokenizer = models.load_model(str(tiny_model_dir), dtype="fp32")
    handle = answering(model, tokenizer)
    yield model, tokenizer
    handle.remove()


def test_real_engine_adaptive_votes_and_kill_resume(tmp_path, answering_tiny, real_train_file):
    model, tokenizer = answering_tiny
    problems = data.load_problems(real_train_file)[:3]
    n_questions = sum(len(p.questions) for p in problems)
    cfg = predict.PredictConfig(votes=5, adaptive=True, first_round=2, confidence=0.85, max_new_tokens=12)
    whole = tmp_path / "whole.jsonl"
    predict.predict(problems, HFEngine(model, tokenizer, batch_size=8), tokenizer, whole, cfg)
    rows = [json.loads(line) for line in data.details_path(whole).read_text().splitlines()]
    assert len(rows) == n_questions
    samples = [x for r in rows for x in r["samples"]]
    # Chains do answer, and stop right after the answer line (the stop regex, not max_new_tokens).
    assert sum(x["answer"] is not None for x in samples) > len(samples) / 2
    assert all(x["text"] in ("不知道。", *(f"答案是：{c}。" for c in "ABCDE")) for x in samples)
    assert {x["answer"] for x in samples} >= {"A", None}
    assert all(x["answer"] is None for x in samples if x["text"] == "答案是：E。"), "E is no option here"
    for r in rows:
        n, votes = len(r["samples"]), r["votes"]
        if votes:
            assert not r["fallback"] and r["answer"] == predict.voting.vote(
                [predict.voting.Sample(**x) for x in r["samples"]]).answer
        # Adaptive: two agreeing chains settle it; otherwise more chains, never past the budget.
        first_two = [x["answer"] for x in r["samples"][:2]]
        if first_two[0] is not None and first_two[0] == first_two[1]:
            assert n == 2
        else:
            assert 2 < n <= 5
    assert any(len(r["samples"]) == 2 for r in rows) and any(len(r["samples"]) > 2 for r in rows)

    # Killed after its first write, then resumed with another batch size: the same details, row for row.
    out = tmp_path / "pred.jsonl"

    def kill(questions, tokens):
        raise KeyboardInterrupt("simulated kill")

    with pytest.raises(KeyboardInterrupt):
        predict.predict(problems, HFEngine(model, tokenizer, batch_size=3), tokenizer, out, cfg, on_written=kill)
    partial = data.details_path(out).read_text().splitlines()
    assert 0 < len(partial) < n_questions
    summary = predict.predict(problems, HFEngine(model, tokenizer, batch_size=5), tokenizer, out, cfg)
    assert summary["resumed"] == len(partial)
    resumed = {(r["id"], r["question_index"]): r for r in map(json.loads, data.details_path(out).read_text().splitlines())}
    assert len(resumed) == n_questions
    for r in rows:
        again = resumed[(r["id"], r["question_index"])]
        # Batched matmuls round differently per batch size: log-probs agree closely, the chains exactly.
        assert [(x["text"], x["answer"]) for x in again["samples"]] == [(x["text"], x["answer"]) for x in r["samples"]]
        assert [x["logprob"] for x in again["samples"]] == pytest.approx([x["logprob"] for x in r["samples"]], abs=1e-4)
        assert (again["votes"], again["answer"], again["fallback"]) == (r["votes"], r["answer"], r["fallback"])
    assert out.read_text() == whole.read_text()


class _FakeTokenizer:
    chat_template = None
