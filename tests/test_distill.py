"""distill: verified rationales through faults and kills, the key kept secret, STaR on scripted and tiny models."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logictune import data, distill_cost, prompts, sft_data
from logictune import distill as ds
from logictune.cli import app
from logictune.engines import Completion
from logictune.engines.openai import OpenAIEngine
from logictune.testserver import Faults, TestServer


def write_problems(path: Path, n_problems: int, per_problem: int = 2) -> Path:
    rows = [{"id": f"p{i}", "problem": f"题目 {i}：甲乙丙丁四人中只有一人说真话。",
             "questions": [{"question": f"选择题 {j + 1}：第 {j + 1} 问，谁说了真话？",
                            "options": ["甲", "乙", "丙", "丁"][: 3 + (i + j) % 2], "answer": "ABC"[(i + 2 * j) % 3]}
                           for j in range(per_problem)]}
            for i in range(n_problems)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def keys_of(problems) -> dict[tuple[str, int], str]:
    return {(p.id, i): q.answer for p in problems for i, q in enumerate(p.questions)}


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-distill-tests")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


# ---------------------------------------------------------------- pieces


def test_clean_rationale_drops_the_answer_statement():
    assert ds.clean_rationale("甲说谎。\n所以乙说真话。\n答案是：B") == "甲说谎。\n所以乙说真话。"
    assert ds.clean_rationale("推理……\n**答案是：** **C**。") == "推理……"
    assert ds.clean_rationale("推理……故答案是：B（乙）。") == "推理……故"
    assert ds.clean_rationale("答案是：A") == ""


def test_verified_keeps_distinct_chains_that_reach_the_key():
    q = data.Question("谁？", ["甲", "乙", "丙"], "B")
    kept, rejected = ds.verified(q, ["因为甲说谎。\n答案是：B", "因为甲说谎。\n答案是：B", "因为丙。\n答案是：C",
                                     "答案是：B", "不知道", "乙或丙。答案是：B或C"])
    assert kept == ["因为甲说谎。"] and rejected == 4  # wrong, no reasoning, no answer, hedged


def test_parse_teacher():
    assert ds.parse_teacher("openai:qwen-plus") == ("openai", "qwen-plus")
    assert ds.parse_teacher("local:runs/sft") == ("local", "runs/sft")
    for bad in ("qwen-plus", "openai:", "http:x"):
        with pytest.raises(ValueError, match="openai:MODEL or local:SPEC"):
            ds.parse_teacher(bad)


def test_teacher_prompt_shows_the_key_and_the_options():
    p = data.Problem("p", "题目正文", [data.Question("选择题 1：谁？", ["甲", "乙"], "B")])
    [system, user] = prompts.build_teacher_messages(p, p.questions[0])
    assert system["role"] == "system" and user["content"].endswith(f"{prompts.TEACHER_ANSWER_HEADER}B")
    assert "A. 甲\nB. 乙" in user["content"] and "题目正文" in user["content"] and "答案是：A" in user["content"]
    with pytest.raises(ValueError, match="no key"):
        prompts.build_teacher_messages(p, data.Question("谁？", ["甲", "乙"]))


# ---------------------------------------------------------------- acceptance: faults


def test_fault_server_every_question_verified_or_listed_failed(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "d.jsonl", 25))
    faults = Faults.spread(0.3, wrong=0.25, retry_after=0.01, slow_seconds=0.8, seed=1)
    out = tmp_path / "r.jsonl"
    with TestServer(faults=faults) as server:
        engine = OpenAIEngine("m", base_url=server.url, concurrency=8, max_retries=4, timeout=0.4,
                              cache=ds.default_cache_path(out))
        summary = ds.distill(problems, engine, out, ds.DistillConfig(), source="openai:m")
        log = list(server.log)
    faulted = sum(1 for e in log if e["fault"] or e.get("wrong"))
    assert faulted >= 0.3 * len(log), (faulted, len(log))
    assert {e["fault"] for e in log} >= {"429", "500", "slow", "truncated", "drop", None}

    keys = keys_of(problems)
    rows, failed = read_jsonl(out), read_jsonl(ds.failed_path(out))
    done = [(r["id"], r["question_index"]) for r in rows]
    listed = [(r["id"], r["question_index"]) for r in failed]
    assert len(done) == len(set(done)) and len(listed) == len(set(listed))  # none duplicated
    assert set(done) | set(listed) == set(keys) and not set(done) & set(listed)  # none lost
    assert summary.done == len(done) and len(summary.failed) == len(listed) and summary.rejected > 0
    for r in rows:  # only rationales that argue for the key
        key = keys[(r["id"], r["question_index"])]
        assert r["answer"] == key and f"只剩选项 {key}" in r["rationale"] and "答案" not in r["rationale"]
        assert r["source"] == "openai:m"
    assert {r["reason"] for r in failed} <= {"rejected", "error"}
    # What sft_data makes of it: every rationale one example, none disagreeing with its key.
    examples, report = sft_data.build_examples(problems, sft_data.load_rationales(out))
    assert report.with_rationale == len(rows) and not report.dropped["rationale_disagrees"]

    # A rerun (the same server: its port names it in the cache) pays only for questions whose requests gave up;
    # everything else comes from cache or output.
    with TestServer(port=server.port) as server:
        engine = OpenAIEngine("m", base_url=server.url, cache=ds.default_cache_path(out))
        ds.distill(problems, engine, out, ds.DistillConfig(), source="openai:m")
        errors = sum(1 for r in failed if r["reason"] == "error")
        assert len({e["prompt_hash"] for e in server.paid()}) == errors
    assert not any(r["reason"] == "error" for r in read_jsonl(ds.failed_path(out)))
    final = {(r["id"], r["question_index"]) for r in read_jsonl(out) + read_jsonl(ds.failed_path(out))}
    assert final == set(keys) and len(read_jsonl(out)) + len(read_jsonl(ds.failed_path(out))) == len(keys)


def test_a_request_refused_for_one_question_fails_that_question_and_the_run_goes_on(tmp_path):
    """400 "context too long" (or a content filter) belongs to one question: it is listed as failed with the
    server's reason, every question after it is still written in order, and a rerun does not ask it again."""
    problems = data.load_problems(write_problems(tmp_path / "d.jsonl", 6))
    too_long = "This model's maximum context length is 8192 tokens; your messages resulted in 9100 tokens."

    def refuse(body: dict) -> str | None:
        return too_long if "题目 1：" in body["messages"][-1]["content"] else None

    out = tmp_path / "r.jsonl"
    with TestServer(refuse=refuse) as server:
        engine = OpenAIEngine("m", base_url=server.url, concurrency=2, cache=ds.default_cache_path(out))
        summary = ds.distill(problems, engine, out, ds.DistillConfig(), source="openai:m")
        assert sum(e["status"] == 400 for e in server.log) == 2  # one request per refused question: no re-asks
    keys = keys_of(problems)
    refused = {k for k in keys if k[0] == "p1"}
    assert [(r["id"], r["question_index"]) for r in read_jsonl(out)] == [k for k in keys if k not in refused]
    failed = read_jsonl(ds.failed_path(out))
    assert {(r["id"], r["question_index"]) for r in failed} == refused
    assert all(r["reason"] == "refused" and r["detail"] == f"400: {too_long}" for r in failed)
    assert len(summary.failed) == 2 and engine.stats.refused == 2
    with TestServer(refuse=refuse, port=server.port) as server:  # settled: the rerun asks nothing (its redone
        # last question is cached)
        engine = OpenAIEngine("m", base_url=server.url, cache=ds.default_cache_path(out))
        again = ds.distill(problems, engine, out, ds.DistillConfig(), source="openai:m")
        assert again.resumed + again.done == len(keys) and not again.failed and not server.log


# ---------------------------------------------------------------- acceptance: kills


def _cache_rows(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_sigkill_five_times_then_resume_matches_an_uninterrupted_run(tmp_path):
    """The server pulls the plug at random requests: it stops delivering, waits until distill has committed
    what it was already sent (a reply caught between arrival and commit is the one loss no client can
    avoid without idempotent APIs), then SIGKILLs it, mid-request, mid-write or mid-retry."""
    data_file = write_problems(tmp_path / "d.jsonl", 15)
    problems = data.load_problems(data_file)
    faults = Faults(wrong=0.2, seed=7)  # deterministic re-asks

    base = tmp_path / "base" / "r.jsonl"
    with TestServer(faults=faults) as server:
        engine = OpenAIEngine("m", base_url=server.url, cache=ds.default_cache_path(base), concurrency=3)
        ds.distill(problems, engine, base, ds.DistillConfig(), source="openai:m",
                   run_info={"teacher": "openai:m", "adapter": None, "data": str(data_file), "self": False})
    assert read_jsonl(base)

    out = tmp_path / "run" / "r.jsonl"
    rng = random.Random(3)
    state = {"count": 0, "kill_at": None, "proc": None, "kills": 0, "dead": None}
    lock = threading.Lock()

    with TestServer(faults=faults, delay=0.03) as server:
        def pull_the_plug(entry: dict) -> None:
            with lock:
                state["count"] += 1
                fire = state["count"] == state["kill_at"]
            if not fire:
                return
            with server.gate:  # no reply goes out while we wait and kill
                deadline = time.time() + 20
                while _cache_rows(ds.default_cache_path(out)) < len(server.paid()) and time.time() < deadline:
                    time.sleep(0.005)
                time.sleep(rng.uniform(0, 0.02))
                state["proc"].kill()
                state["dead"].wait(20)  # the main thread reaps it: later replies find no one to deliver to
                state["kills"] += 1

        server.before_reply = pull_the_plug
        args = ["distill", "--teacher", "openai:m", "--data", str(data_file), "--out", str(out),
                "--base-url", server.url, "--concurrency", "3", "--yes"]
        for attempt in range(6):
            with lock:
                state["kill_at"] = state["count"] + rng.randint(1, 5) if attempt < 5 else None
            state["dead"] = threading.Event()
            state["proc"] = _Forked(args, tmp_path / f"run{attempt}.txt")
            state["proc"].wait(timeout=120)
            state["dead"].set()
            expected = -9 if attempt < 5 else 0
            assert state["proc"].returncode == expected, state["proc"].output()
        paid = Counter((e["prompt_hash"], e["seed"]) for e in server.paid())

    assert state["kills"] == 5
    assert out.read_bytes() == base.read_bytes()
    assert read_jsonl(ds.failed_path(out)) == read_jsonl(ds.failed_path(base))
    assert paid and max(paid.values()) == 1  # no prompt paid for twice
    assert "done:" in state["proc"].output() and "from cache:" in state["proc"].output()


class _Forked:
    """`logictune ARGS` in a forked child (the parent's imports come along: no interpreter start-up)."""

    def __init__(self, args: list[str], log: Path):
        self.log = log
        self.proc = multiprocessing.get_context("fork").Process(target=self._main, args=(args, log))
        self.proc.start()

    @staticmethod
    def _main(args: list[str], log: Path) -> None:
        with open(log, "w") as f:
            sys.stdout = sys.stderr = f
            try:
                app(args, standalone_mode=False)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            sys.stdout.flush()
            os._exit(code)

    def kill(self) -> None:
        self.proc.kill()

    def wait(self, timeout: float | None = None) -> None:
        self.proc.join(timeout)

    @property
    def returncode(self) -> int | None:
        return self.proc.exitcode

    def output(self) -> str:
        return self.log.read_text(errors="replace")


# ---------------------------------------------------------------- acceptance: the key


def test_api_key_never_written_anywhere(tmp_path):
    secret, wrong = "sk-LTFAKE-7Qz9-distinctive-4242", "sk-LTWRONG-3Xy8-other-1717"
    data_file = write_problems(tmp_path / "d.jsonl", 3)
    out = tmp_path / "out" / "r.jsonl"
    runner = CliRunner()
    with TestServer(faults=Faults(wrong=0.3), api_key=secret, log_path=tmp_path / "server.log") as server:
        args = ["distill", "--teacher", "openai:m", "--data", str(data_file), "--out", str(out), "--base-url",
                server.url, "--api-key-env", "LT_SECRET", "--price-in", "1", "--price-out", "2", "--yes"]
        ok = runner.invoke(app, args, env={"LT_SECRET": secret})
        cached = runner.invoke(app, args, env={"LT_SECRET": wrong})  # all in the cache: nothing to ask
        other = [a if a != str(out) else str(tmp_path / "other" / "r.jsonl") for a in args]
        refused = runner.invoke(app, other, env={"LT_SECRET": wrong})
    assert ok.exit_code == 0, ok.output
    assert server.paid() and read_jsonl(out)  # the key did reach the server
    assert cached.exit_code == 0 and "paid requests: 0" in cached.output, cached.output
    assert refused.exit_code == 1 and "bad API key" in refused.output, refused.output
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".jsonl", ".sqlite", ".json", ".log"}
    for p in files:
        blob = p.read_bytes()
        assert secret.encode() not in blob and wrong.encode() not in blob, p
    for result in (ok, cached, refused):
        assert secret not in result.output and wrong not in result.output


# ---------------------------------------------------------------- resume, estimate, CLI guards


def test_resume_refuses_other_settings(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "d.jsonl", 2))
    out = tmp_path / "r.jsonl"
    with TestServer() as server:
        engine = OpenAIEngine("m", base_url=server.url, cache=ds.default_cache_path(out))
        ds.distill(problems, engine, out, ds.DistillConfig(), source="openai:m")
        with pytest.raises(ValueError, match="samples: 1 -> 2"):
            ds.distill(problems, engine, out, ds.DistillConfig(samples=2), source="openai:m")
        summary = ds.distill(problems, engine, out, ds.DistillConfig(samples=2), source="openai:m", overwrite=True)
    assert summary.rationales == 8 and len(read_jsonl(out)) == 8
    assert engine.stats.requests == 8 and engine.stats.cached == 4  # sample 0 of each came from the cache


def test_an_out_that_distill_did_not_write_is_refused_untouched(tmp_path):
    """--out pointed at synth's rationales: no OUT.run.json says what made it, so nothing is appended to
    it or truncated from it."""
    problems = data.load_problems(write_problems(tmp_path / "d.jsonl", 2))
    out = tmp_path / "synth.rationales.jsonl"
    theirs = "".join(json.dumps({"id": p.id, "question_index": i, "rationale": "推理", "answer": q.answer,
                                 "source": "synth"}, ensure_ascii=False) + "\n"
                     for p in problems for i, q in enumerate(p.questions))
    out.write_text(theirs, encoding="utf-8")
    with TestServer() as server:
        engine = OpenAIEngine("m", base_url=server.url, cache=ds.default_cache_path(out))
        with pytest.raises(ValueError, match=r"synth\.rationales\.jsonl exists but .*run\.json does not"):
            ds.distill(problems, engine, out, ds.DistillConfig(), source="openai:m")
        with pytest.raises(ValueError, match="exists but"):
            ds.distill_self(problems, ScriptedEngine(lambda p, j: "A"), _Plain(), out, ds.DistillConfig())
        assert not server.log
    assert out.read_text(encoding="utf-8") == theirs and not ds.failed_path(out).exists()


def test_two_runs_on_one_out_do_not_both_write(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "d.jsonl", 1))
    out = tmp_path / "r.jsonl"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from logictune import runfiles\n"
         "with runfiles.lock_output(sys.argv[1]):\n    print('locked', flush=True); time.sleep(60)", str(out)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with TestServer() as server:
            engine = OpenAIEngine("m", base_url=server.url)
            with pytest.raises(ValueError, match=rf"another run \(process {holder.pid}\b"):
                ds.distill(problems, engine, out, ds.DistillConfig(), source="openai:m")
            with pytest.raises(ValueError, match=rf"another run \(process {holder.pid}\b"):
                ds.distill_self(problems, ScriptedEngine(lambda p, j: "A"), _Plain(), out, ds.DistillConfig())
            assert not server.log
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()


def test_estimate_counts_cached_replies_as_free(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "d.jsonl", 5))
    cfg = ds.DistillConfig(samples=2, max_reasks=1, expected_completion_tokens=100, max_new_tokens=500)
    est = distill_cost.estimate(problems, cfg, price_in=2.0, price_out=8.0)
    per_prompt = distill_cost.approx_tokens(prompts.build_teacher_messages(problems[0], problems[0].questions[0]))
    assert (est.questions, est.requests, est.cached, est.max_requests) == (10, 20, 0, 30)
    assert 0.9 * 20 * per_prompt < est.prompt_tokens < 1.1 * 20 * per_prompt
    assert est.completion_tokens == 2000 and est.max_completion_tokens == 15000
    assert est.cost == pytest.approx((est.prompt_tokens * 2 + 2000 * 8) / 1e6)
    half = distill_cost.estimate(problems, cfg, is_cached=lambda messages, j: j == 0)
    assert half.requests == 10 and half.cached == 10 and half.cost is None

    # Every wanted sample cached: nothing expected, but re-asks would still pay for their prompts.
    wanted = distill_cost.estimate(problems, cfg, price_in=2.0, price_out=8.0, is_cached=lambda messages, j: j < 2)
    assert (wanted.requests, wanted.cached, wanted.cost, wanted.max_requests) == (0, 20, 0.0, 10)
    assert wanted.max_prompt_tokens == est.max_prompt_tokens - est.prompt_tokens > 0
    assert wanted.max_cost == pytest.approx((wanted.max_prompt_tokens * 2 + 10 * 500 * 8) / 1e6)
    assert est.max_cost == pytest.approx((est.max_prompt_tokens * 2 + 15000 * 8) / 1e6)
    # Re-asks an earlier run made are cached too: nothing left to pay for.
    everything = distill_cost.estimate(problems, cfg, price_in=2.0, price_out=8.0, is_cached=lambda m, j: True)
    assert (everything.max_requests, everything.max_cost) == (0, 0.0)


def test_estimate_only_sends_nothing_and_prices_need_consent(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    data_file = write_problems(tmp_path / "d.jsonl", 4)
    out = tmp_path / "r.jsonl"
    runner = CliRunner()
    with TestServer() as server:
        base = ["distill", "--teacher", "openai:m", "--data", str(data_file), "--out", str(out),
                "--base-url", server.url, "--price-in", "2", "--price-out", "8"]
        est = runner.invoke(app, [*base, "--estimate-only"])
        asked = runner.invoke(app, base, input="n\n")
    assert est.exit_code == 0 and "8 questions -> 8 requests" in est.output and "estimated cost" in est.output
    assert asked.exit_code == 1 and "--yes" in asked.output
    assert not server.log and not out.exists() and not ds.default_cache_path(out).exists()


def test_self_needs_a_local_model(tmp_path):
    result = CliRunner().invoke(app, ["distill", "--self", "--teacher", "openai:m", "--data", "x", "--out", "y"])
    assert result.exit_code == 1 and "local" in result.output


@pytest.mark.parametrize("teacher, engine, says", [("local:m", "vllm", "hf or llamacpp"),
                                                    ("openai:m", "llamacpp", "local teacher")])
def test_distill_engine_choice_is_checked(teacher, engine, says):
    result = CliRunner().invoke(app, ["distill", "--teacher", teacher, "--engine", engine, "--data", "x", "--out", "y"])
    assert result.exit_code == 1 and says in result.output


def test_a_local_teacher_runs_on_the_engine_chosen(tmp_path, monkeypatch):
    from logictune.engines import build

    chosen = []

    def fake_build(choice, **options):
        chosen.append(choice)
        raise ValueError("no model here")

    monkeypatch.setattr(build, "build_engine", fake_build)
    data_file = tmp_path / "d.jsonl"
    data_file.write_text(json.dumps({"id": "p", "problem": "x", "questions": [
        {"question": "q", "options": ["1", "2"], "answer": "A"}]}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["distill", "--self", "--method", "program", "--teacher", "local:m", "--engine",
                                      "llamacpp", "--data", str(data_file), "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1 and "no model here" in result.output
    assert [(c.engine, c.model) for c in chosen] == [("llamacpp", "m")]


# ---------------------------------------------------------------- STaR


class _Plain:
    """A tokenizer without a chat template: prompts are the message texts, as render_messages lays them out."""

    chat_template = None


class ScriptedEngine:
    """Chain j of a prompt states ``script(prompt, j)`` (None: no answer), with a line of reasoning before it."""

    def __init__(self, script):
        self.script = script
        self.prompts: list[str] = []

    def generate(self, prompts_, n, sampling, *, more=None, on_done=None):
        out = []
        for i, p in enumerate(prompts_):
            self.prompts.append(p)
            chains, k = [], n
            while k:
                for _ in range(k):
                    letter = self.script(p, len(chains))
                    text = f"逐一检查（{len(chains)}）。\n答案是：{letter}" if letter else "想不出来。"
                    chains.append(Completion(text, list(range(5)), -1.0))
                k = more(i, chains) if more else 0
            if on_done:
                on_done(i, chains)
            out.append(chains)
        return out

    def score_next_token(self, prompts_, candidates):
        return [[0.0] * len(c) for c in candidates]


def test_star_keeps_chains_that_reach_the_key_and_rationalizes_the_rest(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "d.jsonl", 3))
    keys = keys_of(problems)

    def script(prompt: str, j: int) -> str | None:
        hinted = prompts.TEACHER_ANSWER_HEADER in prompt
        p = next(p for p in problems if p.problem in prompt)
        i = next(i for i, q in enumerate(p.questions) if q.body in prompt)
        key, wrong = keys[(p.id, i)], "D" if keys[(p.id, i)] != "D" else "A"
        if p.id == "p0":
            return key if j % 2 else wrong  # some chains right: kept, wrong ones rejected
        if p.id == "p1":
            return key if hinted else wrong  # only with the hint: rationalized
        return None if i == 0 else wrong  # never: unsolved

    out = tmp_path / "star.jsonl"
    engine = ScriptedEngine(script)
    summary = ds.distill_self(problems, engine, _Plain(), out, ds.DistillConfig(samples=4, rationalize=True))
    rows = read_jsonl(out)
    by_q = Counter((r["id"], r["question_index"], r["source"]) for r in rows)
    assert by_q == {("p0", 0, "self"): 2, ("p0", 1, "self"): 2, ("p1", 0, "rationalized"): 1,
                    ("p1", 1, "rationalized"): 1}
    assert all(r["answer"] == keys[(r["id"], r["question_index"])] and "答案" not in r["rationale"] for r in rows)
    failed = read_jsonl(ds.failed_path(out))
    assert [(r["id"], r["question_index"], r["reason"]) for r in failed] == [("p2", 0, "unsolved"),
                                                                             ("p2", 1, "unsolved")]
    # The unhinted prompts are predict's (no key in them); only the unsolved got a hinted one.
    assert sum(prompts.TEACHER_ANSWER_HEADER in p for p in engine.prompts) == 4
    assert summary.done == 4 and summary.by_source == {"self": 4, "rationalized": 2}
    # A rerun resumes: only the last question written is redone (its write may have been cut short).
    again = ScriptedEngine(script)
    resumed = ds.distill_self(problems, again, _Plain(), out, ds.DistillConfig(samples=4, rationalize=True))
    assert resumed.resumed == 5 and resumed.done + len(resumed.failed) == 1
    assert read_jsonl(out) == rows and read_jsonl(ds.failed_path(out)) == failed


def test_star_command_end_to_end_on_the_tiny_model(tmp_path, tiny_model_dir):
    data_file = write_problems(tmp_path / "d.jsonl", 2)
    out = tmp_path / "star.jsonl"
    result = CliRunner().invoke(app, ["distill", "--self", "--rationalize", "--teacher", f"local:{tiny_model_dir}",
                                      "--data", str(data_file), "--out", str(out), "--samples", "2",
                                      "--max-new-tokens", "6", "--dtype", "fp32"])
    assert result.exit_code == 0, result.output
    rows, failed = read_jsonl(out), read_jsonl(ds.failed_path(out))
    done = {(r["id"], r["question_index"]) for r in rows}
    assert done | {(r["id"], r["question_index"]) for r in failed} == set(keys_of(data.load_problems(data_file)))
    # (which source a kept chain is labelled with is checked on a scripted model above: a random one keeps none)
    assert failed and all(r["reason"] == "unsolved" for r in failed)
    assert f"done: {len(done)} questions, {len(rows)} rationales" in result.output
    assert f"failed: {len(failed)} questions" in result.output


def test_local_teacher_command_on_the_tiny_model(tmp_path, tiny_model_dir):
    data_file = write_problems(tmp_path / "d.jsonl", 2)
    out = tmp_path / "local.jsonl"
    result = CliRunner().invoke(app, ["distill", "--teacher", f"local:{tiny_model_dir}", "--data", str(data_file),
                                      "--out", str(out), "--max-reasks", "1", "--max-new-tokens", "6",
                                      "--dtype", "fp32"])
    assert result.exit_code == 0, result.output
    rows, failed = read_jsonl(out), read_jsonl(ds.failed_path(out))
    keys = set(keys_of(data.load_problems(data_file)))
    assert {(r["id"], r["question_index"]) for r in rows + failed} == keys
    assert failed and all(r["reason"] == "rejected" for r in failed)  # a random model rarely reaches the key
    # A failed question used its whole budget: its chain and the one re-ask, both rejected.
    rejected = int(re.search(r"rejected: (\d+) chains", result.output).group(1))
    assert 2 * len(failed) <= rejected <= 2 * len(keys)


def test_data_without_a_key_is_an_error_naming_the_file(tmp_path):
    data_file = tmp_path / "unkeyed.jsonl"
    row = {"id": "p0", "problem": "题目", "questions": [{"question": "选择题 1：谁？", "options": ["甲", "乙"]}]}
    data_file.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["distill", "--teacher", "openai:m", "--data", str(data_file), "--out",
                                      str(tmp_path / "r.jsonl"), "--estimate-only"])
    assert result.exit_code == 1 and f"{data_file} has no question with an answer key" in result.output
    assert not (tmp_path / "r.jsonl").exists()


@pytest.mark.parametrize("star", [True, False])
def test_a_local_teacher_and_star_generate_with_the_adapter_merged(tmp_path, tiny_model_dir, tiny_adapter,
                                                                   monkeypatch, star):
    from logictune.engines import build

    seen, real = [], build.get_engine

    def spy(name, model, *args, **kwargs):
        seen.append(model)
        return real(name, model, *args, **kwargs)

    monkeypatch.setattr(build, "get_engine", spy)  # where the CLI's engines are made
    data_file = write_problems(tmp_path / "d.jsonl", 1, per_problem=1)
    args = ["distill", "--teacher", f"local:{tiny_model_dir}", "--adapter", str(tiny_adapter), "--data",
            str(data_file), "--out", str(tmp_path / "r.jsonl"), "--max-new-tokens", "4", "--max-reasks", "0",
            "--dtype", "fp32"] + (["--self", "--samples", "1"] if star else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    [model] = seen
    assert not hasattr(model, "peft_config") and not any("lora" in n for n, _ in model.named_modules())
    from tests.test_engine_build import assert_adapter_folded_in

    assert_adapter_folded_in(model, tiny_model_dir)


def test_a_teacher_is_sent_no_top_k_unless_asked(tmp_path):
    from logictune.testserver import scripted_teacher

    problems = data.load_problems(write_problems(tmp_path / "d.jsonl", 2))
    sent: list[object] = []

    def teacher(body, seed):
        sent.append(body.get("top_k", "absent"))
        return scripted_teacher(body, seed)

    for cfg, name in ((ds.DistillConfig(), "default"), (ds.DistillConfig(top_k=20), "asked")):
        sent.clear()
        with TestServer(teacher) as server:
            engine = OpenAIEngine("m", base_url=server.url)
            ds.distill(problems, engine, tmp_path / f"{name}.jsonl", cfg, source="openai:m")
        assert set(sent) == ({"absent"} if name == "default" else {20}), name


def test_a_refusal_of_every_request_stops_a_run_that_starts_on_cached_replies(tmp_path):
    """Cached replies say the server once answered, not that it answers now: a setting the server now refuses
    for every request still stops the run, instead of listing every remaining question as refused."""
    from logictune.teachers import TeacherError

    problems = data.load_problems(write_problems(tmp_path / "d.jsonl", 8))
    cache = tmp_path / "shared.cache.sqlite"
    with TestServer() as server:  # the first two problems' replies land in the cache
        ds.distill(problems[:2], OpenAIEngine("m", base_url=server.url, cache=cache), tmp_path / "a.jsonl",
                   ds.DistillConfig(), source="openai:m")
        port = server.port
    with TestServer(refuse=lambda body: "top_p must be below 0.9", port=port) as server:
        engine = OpenAIEngine("m", base_url=server.url, concurrency=1, cache=cache)
        with pytest.raises(TeacherError, match="top_p must be below 0.9"):
            ds.distill(problems, engine, tmp_path / "b.jsonl", ds.DistillConfig(), source="openai:m")
    assert len(read_jsonl(ds.failed_path(tmp_path / "b.jsonl"))) < 2 * len(problems) - 4
