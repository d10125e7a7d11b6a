"""The data layer: validation with file:line: field errors, tolerant reading, round trips, split, submissions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logictune import data
from logictune.cli import app
from logictune.data import DataError, Problem, Question
from tests.conftest import TEST_FILE

runner = CliRunner()


def rec(pid: str = "p1", **over) -> dict:
    """A valid record; keyword arguments replace its fields (see `drop` to remove one)."""
    r = {
        "problem": f"题目 {pid}：甲乙丙三人……",
        "questions": [
            {"question": "选择题 1：\n谁说了真话？", "options": ["甲", "乙", "丙", "丁"], "answer": "B"},
            {"question": "选择题 2：\n谁是小偷？", "options": ["甲", "乙"], "answer": "A"},
        ],
        "id": pid,
    }
    r.update(over)
    return r


def q0(**over) -> dict:
    """The first question of :func:`rec` with some fields replaced."""
    return {**rec()["questions"][0], **over}


def write_lines(path: Path, lines: list[object]) -> Path:
    """One line per item: dicts are dumped as JSON, strings are written verbatim."""
    text = "".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines)
    path.write_text(text, encoding="utf-8")
    return path


def drop(d: dict, key: str) -> dict:
    return {k: v for k, v in d.items() if k != key}


def sole_error(path: Path) -> data.BadRecord:
    with pytest.raises(DataError) as exc:
        data.load_problems(path)
    assert len(exc.value.errors) == 1, exc.value.errors
    err = exc.value.errors[0]
    # The message itself names the file, the line and the field.
    assert f"{path}:{err.line}: field '{err.field}'" in str(exc.value)
    return err


# ---------------------------------------------------------------- validation: one bad line each

BAD_RECORDS = {
    "invalid json": ('{"id": "p2", "problem": "x", "questions": [', "<json>", "invalid JSON"),
    "not an object": ("[1, 2]", "<record>", "JSON object"),
    "problem missing": (drop(rec("p2"), "problem"), "problem", "missing"),
    "problem empty": (rec("p2", problem=""), "problem", "missing or empty"),
    "problem blank": (rec("p2", problem="  \n "), "problem", "missing or empty"),
    "problem not a string": (rec("p2", problem=3), "problem", "missing or empty"),
    "questions missing": (drop(rec("p2"), "questions"), "questions", "non-empty list"),
    "questions empty": (rec("p2", questions=[]), "questions", "non-empty list"),
    "questions a string": (rec("p2", questions="选择题 1：谁？"), "questions", "non-empty list"),
    "question not an object": (rec("p2", questions=["谁？"]), "questions[0]", "must be an object"),
    "question text empty": (rec("p2", questions=[q0(question=" ")]), "questions[0].question", "empty"),
    "one option": (rec("p2", questions=[q0(options=["甲"], answer="A")]), "questions[0].options", "at least 2"),
    "no options": (rec("p2", questions=[drop(q0(), "options")]), "questions[0].options", "at least 2"),
    "options a string": (rec("p2", questions=[q0(options="甲乙丙丁")]), "questions[0].options", "list"),
    "option not a string": (rec("p2", questions=[q0(options=["甲", 2, "丙"])]), "questions[0].options[1]",
                            "must be a string, got int"),
    "answer two letters": (rec("p2", questions=[q0(answer="AB")]), "questions[0].answer", "single letter"),
    "answer an int": (rec("p2", questions=[q0(answer=1)]), "questions[0].answer", "single letter"),
    "answer empty": (rec("p2", questions=[q0(answer="")]), "questions[0].answer", "single letter"),
    "answer a digit": (rec("p2", questions=[q0(answer="1")]), "questions[0].answer", "single letter"),
    "answer E of 4": (rec("p2", questions=[q0(answer="E")]), "questions[0].answer", "outside the options A-D"),
    "answer C of 2": (rec("p2", questions=[q0(), q0(options=["对", "错"], answer="C")]), "questions[1].answer",
                      "outside the options A-B"),
    "id blank": (rec(" "), "id", "blank"),
    "id empty": (rec(""), "id", "blank"),
    "id missing": (drop(rec("p2"), "id"), "id", "missing"),
}


@pytest.mark.parametrize("bad, field, words", BAD_RECORDS.values(), ids=BAD_RECORDS.keys())
def test_a_bad_record_is_named_by_file_line_and_field(tmp_path, bad, field, words):
    path = write_lines(tmp_path / "bad.jsonl", [rec("p1"), bad, rec("p3")])
    err = sole_error(path)
    assert (err.path, err.line, err.field) == (str(path), 2, field)
    assert words in err.message
    # Lenient mode keeps the good neighbours and skips only the bad one.
    assert [p.id for p in data.load_problems(path, lenient=True)] == ["p1", "p3"]


def test_duplicate_id_names_both_lines(tmp_path):
    path = write_lines(tmp_path / "dup.jsonl", [rec("a"), rec("same"), rec("b"), rec("same", problem="另一题")])
    err = sole_error(path)
    assert (err.line, err.field) == (4, "id")
    assert "'same'" in err.message and "first on line 2" in err.message
    assert [p.id for p in data.load_problems(path, lenient=True)] == ["a", "same", "b"]


def test_valid_answers_are_normalised_and_an_unanswered_question_is_fine(tmp_path):
    questions = [q0(answer=" d "), q0(answer="a"), drop(q0(), "answer")]
    path = write_lines(tmp_path / "ok.jsonl", [rec("p1", questions=questions)])
    [p] = data.load_problems(path)
    assert [q.answer for q in p.questions] == ["D", "A", None]
    assert p.questions[0].letters == "ABCD"


def test_strict_mode_lists_every_bad_line_not_only_the_first(tmp_path):
    lines = [
        rec("p1"),
        rec("p2", problem=""),
        rec("p3"),
        '{"id": "p4", broken',
        rec("p5", questions=[q0(answer="E")]),
        rec("p6"),
    ]
    path = write_lines(tmp_path / "six.jsonl", lines)
    with pytest.raises(DataError) as exc:
        data.load_problems(path)
    errors = exc.value.errors
    assert [(e.line, e.field) for e in errors] == [(2, "problem"), (4, "<json>"), (5, "questions[0].answer")]
    message = str(exc.value)
    assert message.startswith("3 bad record(s)")
    for e in errors:
        assert f"{path}:{e.line}: field '{e.field}'" in message

    assert [p.id for p in data.load_problems(path, lenient=True)] == ["p1", "p3", "p6"]
    report = data.load_report(path)
    assert [p.id for p in report.problems] == ["p1", "p3", "p6"]
    assert [e.line for e in report.errors] == [2, 4, 5]
    assert report.path == str(path)


def test_a_record_with_several_faults_reports_each(tmp_path):
    bad = {"problem": "", "questions": [q0(options=["x"]), q0(answer="Z")]}
    path = write_lines(tmp_path / "multi.jsonl", [bad])
    with pytest.raises(DataError) as exc:
        data.load_problems(path)
    assert {(e.line, e.field) for e in exc.value.errors} == {
        (1, "id"), (1, "problem"), (1, "questions[0].options"), (1, "questions[1].answer")}


# ---------------------------------------------------------------- tolerant reading


def test_bom_crlf_and_blank_lines_are_accepted(tmp_path):
    lines = [json.dumps(rec("p1"), ensure_ascii=False), "", "   ", json.dumps(rec("p2"), ensure_ascii=False), "\t"]
    path = tmp_path / "windows.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8") + b"\r\n")
    problems = data.load_problems(path)
    assert [p.id for p in problems] == ["p1", "p2"]
    assert problems[0].problem == rec("p1")["problem"]
    assert problems[1].questions[1].options == ["甲", "乙"]


def test_line_numbers_count_blank_and_crlf_lines(tmp_path):
    body = "\r\n".join([json.dumps(rec("p1")), "", json.dumps(rec("p2", problem=""))]) + "\r\n"
    path = tmp_path / "gap.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    assert sole_error(path).line == 3


@pytest.mark.parametrize("header", ["选择题 1：", "选择题 1:", "选择题1 ： ", "问题2:", "题目：", "Question 3: "])
def test_question_headers_with_either_colon_give_the_same_body(header):
    q = Question(f"{header}\n谁说了真话？", ["甲", "乙"])
    assert q.body == "谁说了真话？"


def test_body_keeps_a_question_without_header_and_a_colon_later_in_the_text():
    assert Question("  谁说了真话？ ", ["甲", "乙"]).body == "谁说了真话？"
    assert Question("选择题 1：\n比例为 3:2 时谁赢？", ["甲", "乙"]).body == "比例为 3:2 时谁赢？"


def test_ascii_and_full_width_headers_load_to_the_same_body_and_options_are_stripped(tmp_path):
    questions = [q0(question="选择题 1：\n谁说了真话？", options=[" 甲 ", "乙\n", "\t丙", "丁"]),
                 q0(question="选择题 2:\n谁说了真话？")]
    [p] = data.load_problems(write_lines(tmp_path / "h.jsonl", [rec("p1", questions=questions)]))
    assert p.questions[0].body == p.questions[1].body == "谁说了真话？"
    assert p.questions[0].options == ["甲", "乙", "丙", "丁"]


# ---------------------------------------------------------------- round trip

ODD = {
    "source": "crafted",
    "problem": "甲乙丙三人……",
    "meta": {"difficulty": 3, "tags": ["逻辑", "x"]},
    "questions": [
        {"qid": 7, "question": "选择题 1：\n谁？", "note": None, "options": ["甲", "乙", "丙"], "answer": "C",
         "why": {"k": [1, 2]}},
        {"options": ["对", "错"], "question": "选择题 2：\n真吗？", "weight": 0.5},
    ],
    "id": "odd-1",
    "zzz": [],
}


def test_unknown_fields_are_kept_in_place_by_write_problems(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", [ODD, rec("p2")])
    [p, _] = data.load_problems(src)
    assert p.extra == {"source": "crafted", "meta": ODD["meta"], "zzz": []}
    assert p.questions[0].extra == {"qid": 7, "note": None, "why": {"k": [1, 2]}}
    out = tmp_path / "out.jsonl"
    data.write_problems(data.load_problems(src), out)
    # Byte-identical: same values, same key order at the problem and the question level.
    assert out.read_text(encoding="utf-8") == src.read_text(encoding="utf-8")


def test_unknown_fields_are_kept_in_place_by_write_submission(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", [ODD])
    out = tmp_path / "sub.jsonl"
    data.write_submission(data.load_problems(src), {("odd-1", 0): "A", ("odd-1", 1): "B"}, out)
    [got] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    expected = json.loads(json.dumps(ODD))
    expected["questions"][0]["answer"] = "A"  # replaced where it was
    expected["questions"][1]["answer"] = "B"  # added at the end
    assert got == expected
    assert list(got) == list(ODD)
    assert [list(q) for q in got["questions"]] == [list(q) for q in expected["questions"]]


def test_the_real_training_file_round_trips_byte_for_byte(real_train_file, tmp_path):
    out = tmp_path / "train.jsonl"
    data.write_problems(data.load_problems(real_train_file), out)
    assert out.read_bytes() == real_train_file.read_bytes()


# ---------------------------------------------------------------- split


def text_of(p: Problem) -> str:
    return " ".join(p.problem.split())


def n_questions(problems) -> int:
    return sum(len(p.questions) for p in problems)


@pytest.fixture(scope="module")
def real_problems(real_train_file) -> list[Problem]:
    return data.load_problems(real_train_file)


def test_the_real_training_file_repeats_problems(real_problems):
    # The no-leak test below only means something because of this.
    assert len({text_of(p) for p in real_problems}) < len(real_problems)
    assert data.describe(real_problems)["duplicate_problems"] >= 1


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.35])
def test_split_partitions_by_problem_without_leaks_near_the_fraction(real_problems, seed, fraction):
    train, val = data.split(real_problems, fraction, seed)
    ids = [p.id for p in real_problems]
    assert sorted(p.id for p in train + val) == sorted(ids)
    assert not {p.id for p in train} & {p.id for p in val}
    # Both sides keep the input order.
    assert [p.id for p in train] == [i for i in ids if i in {p.id for p in train}]
    assert [p.id for p in val] == [i for i in ids if i in {p.id for p in val}]
    assert not {text_of(p) for p in train} & {text_of(p) for p in val}
    share = n_questions(val) / n_questions(real_problems)
    assert abs(share - fraction) < 0.02, share


def test_split_is_deterministic_and_the_seed_matters(real_problems):
    def val_ids(seed):
        return [p.id for p in data.split(real_problems, 0.2, seed)[1]]

    assert val_ids(3) == val_ids(3)
    assert val_ids(3) != val_ids(4)
    assert len({tuple(val_ids(s)) for s in range(5)}) == 5


def test_split_keeps_identical_texts_together_despite_whitespace():
    problems = [Problem(f"p{i}", f"第 {i % 6} 题\n的  文本" if i % 2 else f"第 {i % 6} 题 的 文本",
                        [Question("问", ["甲", "乙"])]) for i in range(24)]
    for seed in range(10):
        train, val = data.split(problems, 0.5, seed)
        assert val and train
        assert not {text_of(p) for p in train} & {text_of(p) for p in val}


def test_split_edges():
    problems = [Problem(f"p{i}", f"题 {i}", [Question("问", ["甲", "乙"])]) for i in range(10)]
    assert data.split(problems, 0.0, 1) == (problems, [])
    assert data.split(problems, 1.0, 1) == ([], problems)
    assert len(data.split(problems, 0.01, 1)[1]) == 1  # a positive fraction always gets something
    with pytest.raises(ValueError, match="val_fraction"):
        data.split(problems, 1.5)


def test_cli_split_twice_with_the_same_seed_gives_identical_files(real_train_file, tmp_path):
    outs = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        result = runner.invoke(app, ["data", "split", str(real_train_file), "--out-dir", str(tmp_path / name),
                                     "--val-fraction", "0.25", "--seed", str(seed)])
        assert result.exit_code == 0, result.output
        outs.append({part: (tmp_path / name / f"{part}.jsonl").read_bytes() for part in ("train", "val")})
    assert outs[0] == outs[1]
    assert outs[0] != outs[2]
    train = data.load_problems(tmp_path / "a" / "train.jsonl")
    val = data.load_problems(tmp_path / "a" / "val.jsonl")
    assert len(train) + len(val) == 400
    assert n_questions(train) + n_questions(val) == 1163
    assert abs(n_questions(val) / 1163 - 0.25) < 0.02


def test_cli_split_refuses_a_bad_file(tmp_path):
    path = write_lines(tmp_path / "bad.jsonl", [rec("p1"), rec("p2", problem="")])
    result = runner.invoke(app, ["data", "split", str(path), "--out-dir", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert f"{path}:2: field 'problem'" in result.output
    assert not (tmp_path / "out").exists()
    result = runner.invoke(app, ["data", "split", str(path), "--out-dir", str(tmp_path / "out"), "--lenient"])
    # one valid problem cannot fill both sides: refused, rather than writing an empty file every command refuses
    assert result.exit_code == 1 and "side empty" in result.output and f"{path}" in result.output.replace("\n", "")
    assert not (tmp_path / "out").exists()
    two = write_lines(tmp_path / "two.jsonl", [rec("p1"), rec("p2", problem="另一道题")])
    result = runner.invoke(app, ["data", "split", str(two), "--out-dir", str(tmp_path / "out2"), "--val-fraction", "0.5"])
    assert result.exit_code == 0, result.output
    assert sorted(p.id for side in ("train", "val") for p in data.load_problems(tmp_path / "out2" / f"{side}.jsonl")) \
        == ["p1", "p2"]


# ---------------------------------------------------------------- write_submission


def three_problems() -> list[Problem]:
    return [
        Problem("p3", "题三", [Question("问", ["甲", "乙", "丙", "丁"]), Question("问", ["对", "错"])]),
        Problem("p1", "题一", [Question("问", ["甲", "乙", "丙"], answer="C")]),
        Problem("p2", "题二", [Question("问", ["甲", "乙"]), Question("问", ["甲", "乙", "丙", "丁", "戊"])]),
    ]


ANSWERS = {("p3", 0): "D", ("p3", 1): "B", ("p1", 0): "A", ("p2", 0): "A", ("p2", 1): "E"}


def read_answers(path: Path) -> list[tuple[str, list[str]]]:
    return [(d["id"], [q["answer"] for q in d["questions"]])
            for d in map(json.loads, path.read_text(encoding="utf-8").splitlines())]


def test_write_submission_keeps_input_order_and_answers_every_question(tmp_path):
    out = tmp_path / "sub.jsonl"
    data.write_submission(three_problems(), ANSWERS, out)
    # p1 had a gold answer "C": the submission's own answer replaces it.
    assert read_answers(out) == [("p3", ["D", "B"]), ("p1", ["A"]), ("p2", ["A", "E"])]


def test_write_submission_refuses_a_missing_answer_unless_filled(tmp_path):
    out = tmp_path / "sub.jsonl"
    partial = {k: v for k, v in ANSWERS.items() if k != ("p2", 1)}
    with pytest.raises(ValueError, match=r"1 question\(s\) have no answer \(p2#1\)"):
        data.write_submission(three_problems(), partial, out)
    assert not out.exists()
    data.write_submission(three_problems(), partial, out, fill="B")
    assert read_answers(out) == [("p3", ["D", "B"]), ("p1", ["A"]), ("p2", ["A", "B"])]


@pytest.mark.parametrize("letter", ["E", "C", "AB", "", "a", "Z", 1, None])
def test_write_submission_rejects_an_answer_outside_the_options(tmp_path, letter):
    out = tmp_path / "sub.jsonl"
    out.write_text("old\n", encoding="utf-8")
    bad = {**ANSWERS, ("p3", 1): letter}  # p3#1 has options A-B
    with pytest.raises(ValueError, match="p3#1"):
        data.write_submission(three_problems(), bad, out)
    assert out.read_text(encoding="utf-8") == "old\n"


def test_write_submission_rejects_a_fill_letter_outside_the_options(tmp_path):
    with pytest.raises(ValueError, match="outside its options"):
        data.write_submission(three_problems(), {}, tmp_path / "sub.jsonl", fill="C")  # p3#1 has only A-B


def _boom(*args, **kwargs):
    raise OSError("disk on fire")


@pytest.mark.parametrize("where", ["os.replace", "os.fsync", "json.dumps late", "unserialisable"])
def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch, where):
    out = tmp_path / "sub.jsonl"
    out.write_text("the old submission\n", encoding="utf-8")
    problems = three_problems()
    if where == "os.replace":
        monkeypatch.setattr(data.os, "replace", _boom)
    elif where == "os.fsync":
        monkeypatch.setattr(data.os, "fsync", _boom)
    elif where == "json.dumps late":
        real_dumps, calls = json.dumps, []

        def dumps_then_fail(*args, **kwargs):
            calls.append(1)
            if len(calls) == 3:
                raise OSError("disk on fire")
            return real_dumps(*args, **kwargs)

        monkeypatch.setattr(data.json, "dumps", dumps_then_fail)
    else:
        problems[2].extra["oops"] = object()
    with pytest.raises((OSError, TypeError)):
        data.write_submission(problems, ANSWERS, out)
    assert out.read_text(encoding="utf-8") == "the old submission\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub.jsonl"]


def test_atomic_write_replaces_the_whole_file(tmp_path):
    out = tmp_path / "deep" / "er" / "f.txt"
    data.atomic_write_text(out, "a long first version\n")
    data.atomic_write_text(out, "short\n")
    assert out.read_text(encoding="utf-8") == "short\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["f.txt"]


# ---------------------------------------------------------------- describe and `data check`


def test_describe_the_real_training_file(real_problems):
    d = data.describe(real_problems)
    assert (d["problems"], d["questions"], d["answered"]) == (400, 1163, 1163)
    assert set(d["options_per_question"]) <= {2, 3, 4, 5}
    assert sum(d["answer_letters"].values()) == 1163
    assert sum(d["questions_per_problem"].values()) == 400
    assert d["problem_chars"]["min"] <= d["problem_chars"]["p50"] <= d["problem_chars"]["p90"] \
        <= d["problem_chars"]["max"]


def test_describe_the_real_test_file():
    if not TEST_FILE.exists():
        pytest.skip(f"{TEST_FILE} not found")
    d = data.describe(data.load_problems(TEST_FILE))
    assert (d["problems"], d["questions"], d["answered"]) == (500, 1328, 0)
    assert d["answer_letters"] == {}


def test_describe_counts_on_a_crafted_set():
    problems = three_problems() + [Problem("p4", "  题三 ", [Question("问", ["甲", "乙"], "B")])]
    d = data.describe(problems)
    assert (d["problems"], d["questions"], d["answered"]) == (4, 6, 2)
    assert d["questions_per_problem"] == {1: 2, 2: 2}
    assert d["options_per_question"] == {2: 3, 3: 1, 4: 1, 5: 1}
    assert d["answer_letters"] == {"B": 1, "C": 1}
    assert d["duplicate_problems"] == 1


def test_cli_check_on_the_real_training_file(real_train_file):
    result = runner.invoke(app, ["data", "check", str(real_train_file)])
    assert result.exit_code == 0, result.output
    assert re.search(r"problems\s*[│|]\s*400\s", result.output), result.output
    assert re.search(r"questions\s*[│|]\s*1163\s", result.output), result.output
    assert re.search(r"answered\s*[│|]\s*1163\s", result.output), result.output


def test_cli_check_on_a_bad_file_names_every_bad_line(tmp_path):
    path = write_lines(tmp_path / "a-rather-long-file-name-so-lines-would-wrap.jsonl",
                       [rec("p1"), rec("p2", problem=""), rec("p3", questions=[q0(answer="AB")]), rec("p4")])
    result = runner.invoke(app, ["data", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2: field 'problem': missing or empty" in result.output
    assert f"{path}:3: field 'questions[0].answer': must be a single letter, got 'AB'" in result.output
    assert "--lenient" in result.output

    result = runner.invoke(app, ["data", "check", str(path), "--lenient"])
    assert result.exit_code == 0, result.output
    assert "skipped 2 bad record(s)" in result.output
    assert f"{path}:3: field 'questions[0].answer'" in result.output


def test_cli_check_on_a_missing_or_undecodable_file_fails_cleanly(tmp_path):
    result = runner.invoke(app, ["data", "check", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "nope.jsonl" in result.output
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes(json.dumps(rec("p1"), ensure_ascii=False).encode("gb18030") + b"\n")
    result = runner.invoke(app, ["data", "check", str(latin)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "latin1.jsonl" in result.output


@pytest.mark.parametrize("content", ["", "\n  \n\r\n"])
def test_an_empty_file_is_an_error_naming_it_in_every_command_that_reads_data(tmp_path, tiny_model_dir, content):
    empty = tmp_path / "empty-data.jsonl"
    empty.write_text(content, encoding="utf-8")
    good = write_lines(tmp_path / "good.jsonl", [rec("p1")])
    commands = [["data", "check", str(empty)], ["data", "split", str(empty), "--out-dir", str(tmp_path / "s")],
                ["data", "families", str(empty)],
                ["predict", "--data", str(empty), "--model", str(tiny_model_dir), "--out", str(tmp_path / "p.jsonl")],
                ["train", "--data", str(empty), "--model", str(tiny_model_dir), "--output-dir", str(tmp_path / "t")],
                ["distill", "--teacher", f"local:{tiny_model_dir}", "--data", str(empty), "--out",
                 str(tmp_path / "d.jsonl")],
                ["evaluate", "--pred", str(empty), "--gold", str(good)],
                ["evaluate", "--pred", str(good), "--gold", str(empty)]]
    for argv in commands:
        result = runner.invoke(app, argv)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (argv, result.output)
        assert f"{empty} holds no problems" in result.output.replace("\n", ""), (argv, result.output)
    assert not (tmp_path / "s").exists() and not (tmp_path / "p.jsonl").exists()


def test_lenient_loading_of_a_file_of_bad_records_only_is_an_error(tmp_path):
    path = write_lines(tmp_path / "bad.jsonl", [rec("p1", problem=""), rec("p2", questions=[])])
    with pytest.raises(ValueError, match=r"bad\.jsonl holds no problems: every one of its 2 bad record"):
        data.load_problems(path, lenient=True)
    result = runner.invoke(app, ["data", "check", str(path), "--lenient"])
    assert result.exit_code == 1 and "holds no problems" in result.output
