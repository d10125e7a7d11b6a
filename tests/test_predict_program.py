"""predict --method program: programs run in the sandbox, computed matches vote, fallbacks, resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from logictune import data, predict, programs
from logictune.engines import Completion
from tests.test_predict import ScriptedEngine, _FakeTokenizer, write_problems


def fenced(code: str) -> str:
    return f"下面是程序。\n```python\n{code}\n```\n"


class ProgramEngine(ScriptedEngine):
    """``text_for(prompt, chain_no)`` is the completion's whole text (a program, a chain, anything)."""

    def __init__(self, text_for, **kw):
        super().__init__(lambda p, k: None, **kw)
        self.text_for = text_for

    def generate(self, prompts, n, sampling, *, more=None, on_done=None):
        self.calls.append((len(prompts), n))
        self.sampling, self.prompts = sampling, prompts
        results = [[] for _ in prompts]
        for i, p in enumerate(prompts):
            if self.fail_after_prompts is not None and self.prompts_seen >= self.fail_after_prompts:
                raise KeyboardInterrupt("simulated kill")
            self.prompts_seen += 1
            k = n
            while k:
                for _ in range(k):
                    drawn = self.drawn.get(p, 0)
                    self.drawn[p] = drawn + 1
                    results[i].append(Completion(self.text_for(p, drawn), list(range(20)), -3.0 - drawn))
                k = more(i, results[i]) if more else 0
            if self.delay:
                time.sleep(self.delay)
            if on_done:
                on_done(i, results[i])
        return results

    delay = 0.0


def _rows(out):
    return [json.loads(line) for line in data.details_path(out).read_text().splitlines()]


def test_computed_programs_vote_guesses_and_failures_do_not(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=2, questions=(1,)))
    script = [fenced("x = 2 + 1\nprint('ABCD'[x - 1])"),  # computes C
              fenced('print("A")'),  # a constant guess of A
              fenced("print(1 / 0)"),  # error
              "我不会写程序。",  # no code
              fenced("print(sorted('dcba')[2])")]  # computes 'c': no option's text -> unmatched
    engine = ProgramEngine(lambda p, k: script[k])
    out = tmp_path / "pred.jsonl"
    cfg = predict.PredictConfig(method="program", votes=5, adaptive=False)
    predict.predict(problems, engine, _FakeTokenizer(), out, cfg)
    rows = _rows(out)
    assert len(rows) == 2
    for r in rows:
        assert r["method"] == "program" and r["answer"] == "C" and r["votes"] == {"C": 1} and not r["fallback"]
        assert [s["status"] for s in r["samples"]] == ["ok", "guess", "error", "no_code", "unmatched"]
        assert [s["matched"] for s in r["samples"]] == ["C", "A", None, None, None]
        assert r["samples"][0]["stdout"] == "C\n" and r["samples"][2]["error"] == "ZeroDivisionError"
        assert all(s["seconds"] >= 0 for s in r["samples"]) and r["samples"][0]["seconds"] > 0
        assert {s["status"] for s in r["samples"]} <= set(programs.STATUSES)
    # The prompt asked for a program, and generation stops at the closing fence.
    assert all("Python" in p and "```python" in p for p in engine.prompts)
    assert all(sp.stop_regex == predict.prompts.PROGRAM_STOP_REGEX for sp in engine.sampling)

    # Counting guesses: the guess votes too, and ties A:1 C:1 go to the likelier program (C, chain 0).
    out2 = tmp_path / "pred2.jsonl"
    predict.predict(problems, ProgramEngine(lambda p, k: script[k]), _FakeTokenizer(), out2,
                    predict.PredictConfig(method="program", votes=5, adaptive=False, count_guesses=True))
    assert all(r["votes"] == {"A": 1, "C": 1} for r in _rows(out2))


def test_no_usable_program_falls_back_to_direct_or_to_chains(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=2, questions=(2,)))
    guess_only = ProgramEngine(lambda p, k: fenced('print("D")'))
    out = tmp_path / "direct.jsonl"
    predict.predict(problems, guess_only, _FakeTokenizer(), out, predict.PredictConfig(method="program", votes=2,
                                                                                       adaptive=False))
    rows = _rows(out)
    # ScriptedEngine's option scores put B first: the direct fallback answers B, not the guessed D.
    assert all(r["answer"] == "B" and r["fallback"] and r["fallback_method"] == "direct" for r in rows)
    assert all(r["option_probs"] and r["fallback_samples"] == [] for r in rows)

    def text(prompt, k):  # programs for the program prompt, a chain for the cot prompt
        return fenced('print("D")') if "Python" in prompt else "分析……\n答案是：C"

    out = tmp_path / "cot.jsonl"
    predict.predict(problems, ProgramEngine(text), _FakeTokenizer(), out,
                    predict.PredictConfig(method="program", votes=2, adaptive=False, fallback="cot"))
    rows = _rows(out)
    assert all(r["answer"] == "C" and r["fallback"] and r["fallback_method"] == "cot" for r in rows)
    assert all(len(r["fallback_samples"]) == 2 and r["fallback_samples"][0]["answer"] == "C" for r in rows)
    assert all(r["samples"][0]["status"] == "guess" for r in rows)


def test_fallback_questions_are_written_part_by_part_and_survive_a_kill(tmp_path):
    """A problem whose program failed is settled (scored) after its part of the run, not at the very end:
    a kill in a later part keeps it, and progress counts it."""
    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=6, questions=(1,)))
    engine = ProgramEngine(lambda p, k: fenced("print(1 / 0)"))  # every program fails: every question falls back
    engine.fail_after_prompts = 4  # killed while sampling the third part (2 questions a part)
    out = tmp_path / "pred.jsonl"
    cfg = predict.PredictConfig(method="program", votes=1, adaptive=False, settle_questions=2)
    with pytest.raises(KeyboardInterrupt):
        predict.predict(problems, engine, _FakeTokenizer(), out, cfg)
    rows = _rows(out)
    assert [r["id"] for r in rows] == ["p0", "p1", "p2", "p3"]
    assert all(r["fallback"] and r["fallback_method"] == "direct" and r["answer"] == "B" for r in rows)
    # The rerun samples only the two problems that were lost.
    rerun = ProgramEngine(lambda p, k: fenced("print(1 / 0)"))
    predict.predict(problems, rerun, _FakeTokenizer(), out, cfg)
    assert rerun.calls == [(2, 1)] and len(_rows(out)) == 6


def test_adaptive_rounds_run_only_new_programs_and_stop_on_agreement(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=2, questions=(1,)))
    agree = [fenced("print('ABCD'[1 + 1])")] * 5
    split = [fenced("print('ABCD'[1 + 1])"), fenced("print('ABCD'[0 + 0])"), fenced("print('ABCD'[2 + 0])"),
             fenced("print('ABCD'[3 - 1])"), fenced("print('ABCD'[1 * 2])")]

    def text(prompt, k):
        return (agree if "题目 0" in prompt else split)[k]

    out = tmp_path / "pred.jsonl"
    summary = predict.predict(problems, ProgramEngine(text), _FakeTokenizer(), out,
                              predict.PredictConfig(method="program", votes=5, adaptive=True, first_round=2))
    rows = {r["id"]: r for r in _rows(out)}
    assert len(rows["p0"]["samples"]) == 2 and rows["p0"]["votes"] == {"C": 2}
    assert len(rows["p1"]["samples"]) > 2 and rows["p1"]["answer"] == "C"
    assert 0 <= summary["program_wait_share"] < 1 and summary["program_wait_seconds"] > 0


def test_program_settings_are_part_of_the_resume_check(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=1, questions=(1,)))
    out = tmp_path / "pred.jsonl"
    engine = ProgramEngine(lambda p, k: fenced("print('A')"))
    predict.predict(problems, engine, _FakeTokenizer(), out, predict.PredictConfig(method="program", votes=1))
    with pytest.raises(ValueError, match="program_style: 'letter' -> 'value'"):
        predict.predict(problems, engine, _FakeTokenizer(), out,
                        predict.PredictConfig(method="program", votes=1, program_style="value"))
    with pytest.raises(ValueError, match="fallback"):
        predict.PredictConfig(method="program", fallback="constant")
    with pytest.raises(ValueError, match="program_style"):
        predict.PredictConfig(method="program", program_style="haiku")


_KILLED_RUN = """
import sys, time
sys.path.insert(0, {root!r})
from logictune import data, predict
from tests.test_predict_program import ProgramEngine, fenced, slow_text
from tests.test_predict import _FakeTokenizer
engine = ProgramEngine(slow_text)
engine.delay = 0.3
problems = data.load_problems({gold!r})
predict.predict(problems, engine, _FakeTokenizer(), {out!r}, predict.PredictConfig(method="program", votes=3,
                adaptive=True, first_round=2))
"""


def _timeless(row: dict) -> dict:
    """A details row without the programs' run times (wall clock differs between runs)."""
    return row | {"samples": [{k: v for k, v in s.items() if k != "seconds"} for s in row["samples"]]}


def slow_text(prompt, k):
    """A program per chain whose answer depends on the problem and the chain (so votes differ)."""
    n = int(prompt.split("题目 ")[1].split("：")[0])
    return fenced(f"import time\nx = {n} + {k % 2}\nprint('ABCD'[x % 4])")


def test_sigkilled_program_run_resumes_with_nothing_lost_or_duplicated(tmp_path):
    gold = write_problems(tmp_path / "gold.jsonl", n_problems=12)
    problems = data.load_problems(gold)
    n_questions = sum(len(p.questions) for p in problems)
    whole = tmp_path / "whole.jsonl"
    predict.predict(problems, ProgramEngine(slow_text), _FakeTokenizer(), whole,
                    predict.PredictConfig(method="program", votes=3, adaptive=True, first_round=2))

    out = tmp_path / "pred.jsonl"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_RUN.format(root=root, gold=str(gold), out=str(out))],
                            cwd=root)
    details = data.details_path(out)
    deadline = time.time() + 60
    while time.time() < deadline and (not details.exists() or len(details.read_text().splitlines()) < 3):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = details.read_text().splitlines()
    assert 3 <= len(partial) < n_questions, "killed in the middle of the run"
    summary = predict.predict(problems, ProgramEngine(slow_text), _FakeTokenizer(), out,
                              predict.PredictConfig(method="program", votes=3, adaptive=True, first_round=2))
    assert summary["resumed"] >= 3
    rows = _rows(out)
    keys = [(r["id"], r["question_index"]) for r in rows]
    assert len(keys) == len(set(keys)) == n_questions
    want = {(r["id"], r["question_index"]): _timeless(r) for r in _rows(whole)}
    assert all(_timeless(r) == want[(r["id"], r["question_index"])] for r in rows)
    assert out.read_text() == whole.read_text()


def test_program_method_on_a_served_model_through_the_openai_engine(tmp_path, monkeypatch):
    """The openai engine carries the program prompt and its stop; the program it returns runs here."""
    from logictune.engines.openai import OpenAIEngine
    from logictune.testserver import Reply, TestServer, request_text

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    bodies = []

    def responder(body, seed):
        bodies.append(body)
        assert "```python" in request_text(body)
        return Reply(fenced("facts = [3, 4]\nprint('ABCD'[sum(facts) % 4])"), 100, 20, [-0.1] * 20)

    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=2, questions=(1,)))
    out = tmp_path / "pred.jsonl"
    with TestServer(responder, models=["m"]) as server:
        engine = OpenAIEngine("m", base_url=server.url, concurrency=2)
        predict.predict(problems, engine, _FakeTokenizer(), out,
                        predict.PredictConfig(method="program", votes=2, adaptive=False))
    rows = _rows(out)
    assert [r["answer"] for r in rows] == ["D", "D"] and all(r["votes"] == {"D": 2} for r in rows)
    assert all(s["status"] == "ok" and s["stdout"] == "D\n" for r in rows for s in r["samples"])
    assert bodies and all(b.get("stop") == predict.prompts.PROGRAM_STOP_STRINGS for b in bodies)


def test_program_details_do_not_depend_on_the_batch_size(tmp_path, tiny_model_dir, real_train_file):
    """The real engine on the tiny model: the same programs (texts, statuses) at batch sizes 2 and 7."""
    from logictune import models
    from logictune.engines.hf import HFEngine

    model, tokenizer = models.load_model(str(tiny_model_dir), dtype="fp32")
    problems = data.load_problems(real_train_file)[:2]
    cfg = predict.PredictConfig(method="program", votes=3, adaptive=True, first_round=2, max_new_tokens=10)
    runs = []
    for batch in (2, 7):
        out = tmp_path / f"b{batch}.jsonl"
        predict.predict(problems, HFEngine(model, tokenizer, batch_size=batch), tokenizer, out, cfg)
        runs.append([(r["id"], r["question_index"], [(s["text"], s["status"]) for s in r["samples"]], r["answer"])
                     for r in _rows(out)])
    assert runs[0] == runs[1]
    assert len(runs[0]) == sum(len(p.questions) for p in problems)
    assert all(len(samples) >= 2 for _, _, samples, _ in runs[0])


def test_the_letter_prompt_reads_a_printed_letter_as_a_letter_the_value_prompt_as_a_value(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "p0", "problem": "列表 [c, a, b] 中……", "questions": [
        {"question": "选择题 1：第二个元素是？", "options": ["c", "a", "b", "无"], "answer": "B"}]},
        ensure_ascii=False) + "\n", encoding="utf-8")
    problems = data.load_problems(gold)
    answers = {}
    for style in ("letter", "value"):
        out = tmp_path / f"{style}.jsonl"
        predict.predict(problems, ProgramEngine(lambda p, k: fenced("xs = 'cab'\nprint('ABCD'[xs.index('a')])")),
                        _FakeTokenizer(), out, predict.PredictConfig(method="program", votes=1, adaptive=False,
                                                                     program_style=style))
        answers[style] = _rows(out)[0]["samples"][0]["matched"]
    assert answers == {"letter": "B", "value": "C"}
