"""distill --method program: teacher and STaR programs, kept only when the sandbox runs them to the key."""

from __future__ import annotations

import re
from collections import Counter

from logictune import data, prompts, sft_data
from logictune import distill as ds
from logictune.engines import Completion
from logictune.engines.openai import OpenAIEngine
from logictune.testserver import Reply, TestServer, request_text
from tests.test_distill import _Plain, keys_of, read_jsonl, write_problems

_HINT = re.compile(r"已知正确答案是 ([A-Z])")


def program(options: list[str], letter: str) -> str:
    """A program that finds ``letter``'s option by computing, as a student should."""
    target = options["ABCDE".index(letter)]
    return (f"options = {options!r}\ntruth = {{o: o == {target!r} for o in options}}\n"
            "i = [k for k, o in enumerate(options) if truth[o]][0]\nprint('ABCDE'[i])")


def fenced(code: str) -> str:
    return f"解法如下。\n```python\n{code}\n```\n"


def _question(problems, text: str):
    p = next(p for p in problems if p.problem in text)
    return p, next(i for i, q in enumerate(p.questions) if q.body in text)


def test_teacher_programs_wrong_guessing_and_malicious_ones_are_rejected_and_the_run_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-teacher-secret-123")
    problems = data.load_problems(write_problems(tmp_path / "d.jsonl", 4))
    keys = keys_of(problems)
    flag = tmp_path / "escaped"
    asks: Counter = Counter()

    def teacher(body: dict, seed: int) -> Reply:
        text = request_text(body)
        p, i = _question(problems, text)
        key, options = _HINT.search(text).group(1), p.questions[i].options
        wrong = next(x for x in "ABC" if x != key)
        asks[(p.id, i)] += 1
        code = {
            "p0": program(options, key),  # right at once
            "p1": program(options, wrong if asks[(p.id, i)] == 1 else key),  # wrong, then right when asked again
            "p2": (f"import os, signal\nopen({str(flag)!r}, 'w').write(os.environ.get('OPENAI_API_KEY', ''))\n"
                   f"os.kill(os.getppid(), signal.SIGKILL)\n" + program(options, key)) if i == 0
            else "while True:\n    pass",  # malicious: escape, secret, kill the parent; or a hang
            "p3": f"print({key!r})",  # the key printed, nothing computed: a guess
        }[p.id]
        reply = fenced(code)
        return Reply(reply, len(text) // 2, len(reply) // 2)

    out = tmp_path / "programs.jsonl"
    cfg = ds.DistillConfig(method="program", max_reasks=1, program_timeout=1.0)
    with TestServer(teacher) as server:
        engine = OpenAIEngine("m", base_url=server.url, cache=ds.default_cache_path(out))
        summary = ds.distill(problems, engine, out, cfg, source="openai:m")
    rows, failed = read_jsonl(out), read_jsonl(ds.failed_path(out))
    assert sorted((r["id"], r["question_index"]) for r in rows) == [("p0", 0), ("p0", 1), ("p1", 0), ("p1", 1)]
    assert sorted((r["id"], r["question_index"], r["reason"]) for r in failed) == [
        ("p2", 0, "rejected"), ("p2", 1, "rejected"), ("p3", 0, "rejected"), ("p3", 1, "rejected")]
    for r in rows:
        p = next(p for p in problems if p.id == r["id"])
        key = keys[(r["id"], r["question_index"])]
        assert r["answer"] == key and r["method"] == "program" and r["style"] == "letter"
        assert r["rationale"] == prompts.program_completion(program(p.questions[r["question_index"]].options, key))
    assert asks == {("p0", 0): 1, ("p0", 1): 1, **{(p, i): 2 for p in ("p1", "p2", "p3") for i in (0, 1)}}
    assert summary.rejected == 2 + 4 + 4  # p1's wrong first programs, p2's and p3's two tries each
    assert not flag.exists(), "a program wrote outside its sandbox"
    assert all("sk-teacher-secret-123" not in line for f in tmp_path.iterdir() if f.is_file() and f.suffix == ".jsonl"
               for line in f.read_text(encoding="utf-8").splitlines())
    # What train makes of it: each kept program one example under predict's program prompt.
    examples, report = sft_data.build_examples(problems, sft_data.load_rationales(out))
    assert report.with_rationale == 4 and all(ex["method"] == "program" for ex in examples)
    assert all("已知正确答案" not in m["content"] for ex in examples for m in ex["prompt"])


class ProgramScript:
    """A local engine whose chain j of a prompt is ``script(prompt, j)``."""

    def __init__(self, script):
        self.script, self.prompts = script, []

    def generate(self, prompts_, n, sampling, *, more=None, on_done=None):
        out = []
        for i, p in enumerate(prompts_):
            self.prompts.append(p)
            chains, k = [], n
            while k:
                chains += [Completion(self.script(p, len(chains) + j), [1] * 30, -1.0) for j in range(k)]
                k = more(i, chains) if more else 0
            if on_done:
                on_done(i, chains)
            out.append(chains)
        return out


def test_star_programs_keep_what_runs_to_the_key_and_rationalize_with_the_key_shown(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "d.jsonl", 3))
    keys = keys_of(problems)

    def script(prompt: str, j: int) -> str:
        p, i = _question(problems, prompt)
        key, options = keys[(p.id, i)], p.questions[i].options
        wrong = next(x for x in "ABC" if x != key)
        hint = _HINT.search(prompt)
        if p.id == "p0":  # some programs right
            return fenced(program(options, key if j % 2 else wrong))
        if p.id == "p1":  # guesses the key unhinted (not kept); computes it when shown the key
            return fenced(program(options, hint.group(1))) if hint else fenced(f"print({key!r})")
        return fenced("print(undefined_name)")  # never runs

    out = tmp_path / "star.jsonl"
    engine = ProgramScript(script)
    cfg = ds.DistillConfig(method="program", samples=4, rationalize=True, program_timeout=2.0)
    summary = ds.distill_self(problems, engine, _Plain(), out, cfg)
    rows = read_jsonl(out)
    by_q = Counter((r["id"], r["question_index"], r["source"]) for r in rows)
    # p0: the right program is one text: kept once (distinct programs only)
    assert by_q == {("p0", 0, "self"): 1, ("p0", 1, "self"): 1, ("p1", 0, "rationalized"): 1,
                    ("p1", 1, "rationalized"): 1}
    assert all(r["method"] == "program" and r["answer"] == keys[(r["id"], r["question_index"])] for r in rows)
    failed = read_jsonl(ds.failed_path(out))
    assert [(r["id"], r["question_index"], r["reason"]) for r in failed] == [("p2", 0, "unsolved"),
                                                                             ("p2", 1, "unsolved")]
    # Unhinted prompts are predict's program prompt; the hinted ones show the key, only for the unsolved.
    unhinted = [p for p in engine.prompts if not _HINT.search(p)]
    assert len(unhinted) == 6 and all(prompts.PROGRAM_INSTRUCTIONS["letter"] in p for p in unhinted)
    assert len(engine.prompts) - len(unhinted) == 4
    assert summary.by_source == {"self": 2, "rationalized": 2}
    assert "program_style" in (out.parent / f"{out.name.removesuffix('.jsonl')}.run.json").read_text()
