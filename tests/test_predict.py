"""predict: rounds, voting, fallback, resume after a kill, submission shape."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from logictune import data, predict
from logictune.cli import app
from logictune.engines import Completion
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
    # A random model rarely writes an answer line: those questions must come from option likelihoods.
    assert all(r["answer"] in "ABCDE" and (r["fallback"] or r["votes"]) for r in rows)
    assert all(len(r["samples"]) <= 3 for r in rows)
    result = runner.invoke(app, ["evaluate", "--pred", str(out), "--gold", str(sample), "--report", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("accuracy: ")
    assert (tmp_path / "r" / "report.md").exists()


def test_engine_protocol_is_met_by_hf_engine():
    for method in ("generate", "score_next_token"):
        assert callable(getattr(HFEngine, method))


class _FakeTokenizer:
    chat_template = None
