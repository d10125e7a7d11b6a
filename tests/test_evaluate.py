"""evaluate: align, metrics, report and the CLI, on hand-made files whose figures are known by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logictune import evaluate as ev
from logictune import report_md
from logictune.cli import app
from logictune.data import Problem, Question, details_path, load_problems

PNG = b"\x89PNG\r\n\x1a\n"

# id -> [(n_options, gold, pred), ...]. 5 questions, 3 right: p1, p2#0, p3.
CASES = {
    "p1": [(4, "A", "A")],
    "p2": [(2, "B", "B"), (3, "C", "A")],
    "p3": [(5, "E", "E")],
    "p4": [(4, "A", "B")],
}


def _record(pid: str, questions: list[tuple[int, str | None]]) -> dict:
    qs = []
    for n, answer in questions:
        q = {"question": f"{pid} 问题", "options": [f"选项{i}" for i in range(n)]}
        if answer is not None:
            q["answer"] = answer
        qs.append(q)
    return {"id": pid, "problem": f"题目 {pid}", "questions": qs}


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def _gold(tmp_path: Path) -> Path:
    records = [_record(pid, [(n, g) for n, g, _ in qs]) for pid, qs in CASES.items()]
    return _write(tmp_path / "gold.jsonl", records)


def _pred(tmp_path: Path, cases: dict | None = None) -> Path:
    cases = CASES if cases is None else cases
    # Reversed on purpose: alignment goes by id, not by position.
    records = [_record(pid, [(n, p) for n, _, p in qs]) for pid, qs in reversed(list(cases.items()))]
    return _write(tmp_path / "pred.jsonl", records)


def _sample(answer: str | None, tokens: int) -> dict:
    return {"text": "……", "answer": answer, "logprob": -1.0, "tokens": tokens}


DETAILS = [
    # unanimous, right
    {"id": "p1", "question_index": 0, "method": "cot", "samples": [_sample("A", t) for t in (10, 20, 30)],
     "votes": {"A": 3}, "answer": "A", "fallback": False, "option_probs": None},
    # one extraction failure; the other two agree (2/2 = 1.0), right
    {"id": "p2", "question_index": 0, "method": "cot",
     "samples": [_sample("B", 5), _sample("B", 5), _sample(None, 5)],
     "votes": {"B": 2}, "answer": "B", "fallback": False, "option_probs": None},
    # 2 of 3 (0.667), wrong
    {"id": "p2", "question_index": 1, "method": "cot",
     "samples": [_sample("A", 12), _sample("C", 12), _sample("A", 12)],
     "votes": {"A": 2, "C": 1}, "answer": "A", "fallback": False, "option_probs": None},
    # no sample answered: fallback to option likelihoods, right
    {"id": "p3", "question_index": 0, "method": "cot", "samples": [_sample(None, 50), _sample(None, 50)],
     "votes": {}, "answer": "E", "fallback": True,
     "option_probs": {"A": 0.1, "B": 0.1, "C": 0.1, "D": 0.1, "E": 0.6}},
    # direct: no samples at all, wrong
    {"id": "p4", "question_index": 0, "method": "direct", "samples": [], "votes": {}, "answer": "B",
     "fallback": False, "option_probs": {"A": 0.3, "B": 0.5, "C": 0.1, "D": 0.1}},
]


def _details(path: Path) -> Path:
    return _write(path, DETAILS)


def _pairs(tmp_path: Path) -> list[ev.Pair]:
    return ev.align(load_problems(_pred(tmp_path)), load_problems(_gold(tmp_path)))


# ---------------------------------------------------------------- align


def test_align_pairs_by_id_whatever_the_order(tmp_path):
    pairs = _pairs(tmp_path)
    assert [(p.id, p.question_index, p.n_options, p.gold, p.pred) for p in pairs] == [
        ("p1", 0, 4, "A", "A"), ("p2", 0, 2, "B", "B"), ("p2", 1, 3, "C", "A"), ("p3", 0, 5, "E", "E"),
        ("p4", 0, 4, "A", "B"),
    ]
    assert [p.correct for p in pairs] == [True, True, False, True, False]


def test_align_refuses_missing_id(tmp_path):
    pred = load_problems(_pred(tmp_path, {k: v for k, v in CASES.items() if k != "p3"}))
    with pytest.raises(ValueError, match=r"missing from pred: 1: 'p3'"):
        ev.align(pred, load_problems(_gold(tmp_path)))


def test_align_refuses_extra_id(tmp_path):
    pred = load_problems(_pred(tmp_path, {**CASES, "zz": [(2, "A", "B")]}))
    with pytest.raises(ValueError, match=r"extra in pred \(not in gold\): 1: 'zz'") as err:
        ev.align(pred, load_problems(_gold(tmp_path)))
    assert "missing" not in str(err.value)


def test_align_refuses_question_count_mismatch(tmp_path):
    pred = load_problems(_pred(tmp_path, {**CASES, "p2": CASES["p2"][:1]}))
    with pytest.raises(ValueError, match=r"question count differs: 1: 'p2' \(gold 2, pred 1\)"):
        ev.align(pred, load_problems(_gold(tmp_path)))


def test_align_refuses_options_mismatch_and_unanswered_questions():
    def prob(pid, options, answer):
        return Problem(pid, "题", [Question("问", options, answer)])

    gold = [prob("a", ["x", "y"], "A"), prob("b", ["x", "y"], None), prob("c", ["x", "y"], "B")]
    pred = [prob("a", ["x", "y", "z"], "A"), prob("b", ["x", "y"], "A"), prob("c", ["x", "y"], None)]
    with pytest.raises(ValueError) as err:
        ev.align(pred, gold)
    msg = str(err.value)
    assert "options differ: 1: a#0 (gold 2 options, pred 3)" in msg
    assert "gold question without answer: 1: b#0" in msg
    assert "pred question without answer: 1: c#0" in msg


def test_align_names_a_few_ids_when_many_are_missing(tmp_path):
    gold = [Problem(f"g{i}", "题", [Question("问", ["x", "y"], "A")]) for i in range(8)]
    shown = r"missing from pred: 8: 'g0', 'g1', 'g2', 'g3', 'g4', \.\.\. \(8 in all\)"
    with pytest.raises(ValueError, match=shown):
        ev.align([], gold)


# ---------------------------------------------------------------- metrics


def test_metrics_accuracy_slices_letters_and_baseline(tmp_path):
    m = ev.metrics(_pairs(tmp_path))
    assert (m["n"], m["correct"], m["accuracy"]) == (5, 3, pytest.approx(3 / 5))
    assert {k: (v["n"], v["correct"]) for k, v in m["by_options"].items()} == {
        2: (1, 1), 3: (1, 0), 4: (2, 1), 5: (1, 1)}
    assert m["by_options"][4]["accuracy"] == pytest.approx(0.5)
    assert {k: (v["n"], v["correct"]) for k, v in m["by_gold_letter"].items()} == {
        "A": (2, 1), "B": (1, 1), "C": (1, 0), "E": (1, 1)}
    assert m["letters"] == {"A": {"gold": 2, "pred": 2}, "B": {"gold": 1, "pred": 2},
                            "C": {"gold": 1, "pred": 0}, "E": {"gold": 1, "pred": 1}}
    assert m["baseline"] == {"letter": "A", "correct": 2, "accuracy": pytest.approx(2 / 5)}
    assert m["details"] is None


def test_metrics_from_details(tmp_path):
    d = ev.metrics(_pairs(tmp_path), DETAILS)["details"]
    assert (d["rows"], d["missing"], d["unmatched"], d["answer_mismatch"]) == (5, 0, 0, 0)
    assert d["methods"] == {"cot": 4, "direct": 1}
    assert d["fallbacks"] == 1
    assert d["fallback_rate"] == pytest.approx(1 / 5)
    assert d["fallback_accuracy"] == pytest.approx(1.0)
    assert (d["extraction_failures"], d["samples"]) == (3, 11)
    assert d["extraction_failure_rate"] == pytest.approx(3 / 11)
    assert d["mean_samples"] == pytest.approx(11 / 5)
    assert d["mean_tokens"] == pytest.approx((60 + 15 + 36 + 100 + 0) / 5)


def test_calibration_bins(tmp_path):
    cal = ev.metrics(_pairs(tmp_path), DETAILS)["details"]["calibration"]
    got = {b["bin"]: (b["n"], b["correct"]) for b in cal["bins"]}
    assert got == {"[0.0, 0.4)": (0, 0), "[0.4, 0.6)": (0, 0), "[0.6, 0.8)": (1, 0), "[0.8, 1.0)": (0, 0),
                   "1.0 (unanimous)": (2, 2)}
    assert cal["bins"][2]["mean_agreement"] == pytest.approx(2 / 3)
    assert cal["bins"][2]["accuracy"] == 0.0
    assert cal["bins"][0]["accuracy"] is None
    assert (cal["unvoted"]["n"], cal["unvoted"]["correct"]) == (2, 1)


def test_agreement_edges():
    split_three = {"samples": [_sample("A", 1), _sample("B", 1), _sample("C", 1)]}
    assert ev.agreement(split_three) == pytest.approx(1 / 3)
    assert ev.agreement({"samples": [_sample(None, 1)], "votes": {}}) is None
    assert ev.agreement({"samples": [], "votes": {}}) is None


def test_details_rows_for_other_questions_and_disagreeing_answers_are_counted(tmp_path):
    rows = [dict(DETAILS[0], answer="B"), {"id": "nope", "question_index": 0, "samples": []}]
    d = ev.metrics(_pairs(tmp_path), rows)["details"]
    assert (d["rows"], d["missing"], d["unmatched"], d["answer_mismatch"]) == (1, 4, 1, 1)


def test_metrics_refuses_nothing_to_score():
    with pytest.raises(ValueError, match="nothing to score"):
        ev.metrics([])


# ---------------------------------------------------------------- evaluate, details file, report


def test_details_path_convention():
    assert details_path(Path("runs/out.jsonl")) == Path("runs/out.details.jsonl")


def test_evaluate_finds_the_default_details_file(tmp_path):
    pred, gold = _pred(tmp_path), _gold(tmp_path)
    assert ev.evaluate(pred, gold)["details"] is None
    _details(details_path(pred))
    m = ev.evaluate(pred, gold)
    assert m["details"]["rows"] == 5
    assert m["files"]["details"] == str(tmp_path / "pred.details.jsonl")


def test_load_details_names_the_bad_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(DETAILS[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"d\.jsonl:2: invalid JSON"):
        ev.load_details(path)


def test_write_report_with_details(tmp_path):
    m = ev.evaluate(_pred(tmp_path), _gold(tmp_path), _details(tmp_path / "d.jsonl"))
    path = report_md.write_report(m, tmp_path / "report")
    assert path == tmp_path / "report" / "report.md"
    text = path.read_text(encoding="utf-8")
    assert "**Accuracy: 0.6000 (3/5)**" in text
    assert "| 4 | 2 | 1 | 50.0% |" in text  # 4 options: 1 of 2
    assert "| C | 1 | 0 | 0.0% |" in text  # gold C: 0 of 1
    assert "| fallback rate | 20.0% |" in text
    assert "27.3% (3/11 samples)" in text
    assert "| [0.6, 0.8) | 1 | 0 | 0.0% | 0.67 |" in text
    assert "| 1.0 (unanimous) | 2 | 2 | 100.0% | 1.00 |" in text
    for name in ("letters.png", "by_options.png", "calibration.png"):
        assert (tmp_path / "report" / name).read_bytes()[:8] == PNG
        assert f"![{name}]({name})" in text
    assert not [p for p in (tmp_path / "report").iterdir() if p.name.endswith(".tmp")]


def test_write_report_without_details_has_no_calibration(tmp_path):
    path = report_md.write_report(ev.evaluate(_pred(tmp_path), _gold(tmp_path)), tmp_path / "r")
    assert "No details file" in path.read_text(encoding="utf-8")
    assert (tmp_path / "r" / "letters.png").read_bytes()[:8] == PNG
    assert not (tmp_path / "r" / "calibration.png").exists()


# ---------------------------------------------------------------- CLI


def test_cli_prints_accuracy_first_and_writes_report(tmp_path):
    pred, gold = _pred(tmp_path), _gold(tmp_path)
    _details(details_path(pred))
    result = CliRunner().invoke(app, ["evaluate", "--pred", str(pred), "--gold", str(gold),
                                      "--report", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "accuracy: 0.6000 (3/5)"
    assert "baseline: always A" in result.output
    assert "options = 4" in result.output
    assert "fallback rate 0.2000" in result.output
    assert lines[-1] == f"report: {tmp_path / 'rep' / 'report.md'}"
    assert (tmp_path / "rep" / "report.md").exists()


def test_cli_exits_1_on_mismatch(tmp_path):
    pred = _pred(tmp_path, {k: v for k, v in CASES.items() if k != "p4"})
    result = CliRunner().invoke(app, ["evaluate", "--pred", str(pred), "--gold", str(_gold(tmp_path))])
    assert result.exit_code == 1
    assert "error:" in result.output and "'p4'" in result.output
    assert "accuracy:" not in result.output


# ---------------------------------------------------------------- program runs


def _program(status: str, matched: str | None) -> dict:
    vote = matched if status == "ok" else None
    return {**_sample(vote, 40), "status": status, "matched": matched, "stdout": "", "seconds": 0.05}


PROGRAM_DETAILS = [
    # two computed programs agree: voted, right
    {"id": "p1", "question_index": 0, "method": "program", "samples": [_program("ok", "A"), _program("ok", "A")],
     "votes": {"A": 2}, "answer": "A", "fallback": False, "fallback_method": None, "fallback_samples": []},
    # a right guess and an error: fell back to letter scores, right
    {"id": "p2", "question_index": 0, "method": "program", "samples": [_program("guess", "B"), _program("error", None)],
     "votes": {}, "answer": "B", "fallback": True, "fallback_method": "direct", "fallback_samples": []},
    # a wrong guess twice (gold C): fell back to chains, wrong
    {"id": "p2", "question_index": 1, "method": "program", "samples": [_program("guess", "B"), _program("guess", "B")],
     "votes": {}, "answer": "A", "fallback": True, "fallback_method": "cot", "fallback_samples": [_sample("A", 9)]},
    # computed, right
    {"id": "p3", "question_index": 0, "method": "program", "samples": [_program("ok", "E"), _program("unmatched", None)],
     "votes": {"E": 1}, "answer": "E", "fallback": False, "fallback_method": None, "fallback_samples": []},
    # timeouts only: letter scores, wrong
    {"id": "p4", "question_index": 0, "method": "program", "samples": [_program("timeout", None)],
     "votes": {}, "answer": "B", "fallback": True, "fallback_method": "direct", "fallback_samples": []},
]


def test_program_runs_are_sliced_by_answer_source_and_status(tmp_path):
    prog = ev.metrics(_pairs(tmp_path), PROGRAM_DETAILS)["details"]["programs"]
    assert prog["coverage"] == pytest.approx(2 / 5)
    assert {k: (v["n"], v["correct"]) for k, v in prog["by_source"].items()} == {
        "vote": (2, 2), "cot": (1, 0), "direct": (2, 1)}
    s = prog["by_sample_status"]
    assert (s["ok"]["n"], s["guess"]["n"], s["error"]["n"], s["timeout"]["n"], s["unmatched"]["n"]) == (3, 3, 1, 1, 1)
    assert s["guess"]["matched_right"] == pytest.approx(1 / 3)  # B right on p2#0, wrong twice on p2#1
    assert s["ok"]["matched_right"] == pytest.approx(1.0)
    assert {k: (v["n"], v["correct"]) for k, v in prog["by_question_status"].items()} == {
        "ok": (2, 2), "fallback: guess": (2, 1), "fallback: timeout": (1, 0)}
    # A chain-of-thought run has no program section.
    assert ev.metrics(_pairs(tmp_path), DETAILS)["details"]["programs"] is None


def test_report_of_a_program_run_shows_statuses_and_where_answers_came_from(tmp_path):
    m = ev.evaluate(_pred(tmp_path), _gold(tmp_path), _write(tmp_path / "d.jsonl", PROGRAM_DETAILS))
    text = report_md.write_report(m, tmp_path / "report").read_text(encoding="utf-8")
    assert "Coverage (questions a computed, matched program answered): 40.0%" in text
    assert "| guess | 3 | 33.3% | 3 | 33.3% |" in text
    assert "| fallback: timeout | 1 | 0 | 0.0% |" in text
    assert (tmp_path / "report" / "answer_sources.png").read_bytes()[:8] == PNG


def test_mcnemar_counts_the_discordant_questions_and_gives_the_exact_two_sided_p():
    from logictune.evaluate import mcnemar

    # 9 questions only the second run got right, 1 only the first: 2 * (C(10,0) + C(10,1)) / 2**10
    a = [True] * 5 + [False] * 9 + [True] + [False] * 3
    b = [True] * 5 + [True] * 9 + [False] + [False] * 3
    only_a, only_b, p = mcnemar(a, b)
    assert (only_a, only_b) == (1, 9) and p == pytest.approx(22 / 1024)
    assert mcnemar(b, a)[2] == pytest.approx(22 / 1024)  # two-sided: the order does not matter
    assert mcnemar([True, False], [False, True]) == (1, 1, 1.0)  # a tie is no evidence
    assert mcnemar([True, True], [True, True]) == (0, 0, 1.0)
    with pytest.raises(ValueError, match="same questions"):
        mcnemar([True], [True, False])
