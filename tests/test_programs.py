"""programs: the code block, guesses on the AST, and the matcher that ties printed output to an option."""

from __future__ import annotations

import pytest

from logictune import programs
from logictune.sandbox import Result

YES_NO = ["是", "否"]
NUMBERS = ["3", "5", "4.5", "2"]


def test_extract_code_takes_the_first_python_block_and_a_cut_off_one():
    text = "思路如下。\n```python\nx = 1\nprint(x)\n```\n再来一个\n```python\nprint(2)\n```"
    assert programs.extract_code(text) == "x = 1\nprint(x)"
    assert programs.extract_code("```py\nprint(1)") == "print(1)"  # cut off by the token limit
    assert programs.extract_code("```\nprint(3)\n```") == "print(3)"  # untagged, as a last resort
    assert programs.extract_code("```text\nhi\n```\n```python\nprint(4)\n```") == "print(4)"
    assert programs.extract_code("答案是：A") is None
    assert programs.extract_code("```python\n\n```") is None


@pytest.mark.parametrize("code", [
    'print("A")',
    "print('答案是：', 'B')",
    'a = "A"\nprint(a)',
    'a = "C"\nb = a\nprint(f"{b}")',
    'x = sum(range(10))\nprint("B")',  # computes, then prints a constant anyway
    'def answer():\n    return "D"\nprint(answer())',
    'print([1, 2, 3])',
])
def test_guesses_print_values_that_depend_on_no_computation(code):
    assert programs.is_guess(code)


@pytest.mark.parametrize("code", [
    'x = 3 + 4\nprint(x)',
    'if 2 > 1:\n    print("A")\nelse:\n    print("B")',
    'for o, v in {"A": 1, "B": 2}.items():\n    if v == 2:\n        print(o)',
    'ans = "A"\nif len("abc") == 3:\n    ans = "B"\nprint(ans)',  # rebound under a branch
    'print("A" if 1 + 1 == 3 else "C")',
    'def f(x):\n    return x * 2\nprint(f(3))',
    'import math\nprint(math.factorial(5))',
    'print(sorted([3, 1, 2]))',
    "x = 1\nprint(x",  # a syntax error is not a guess: the sandbox reports it as an error
    "x = 1",  # prints nothing
])
def test_programs_that_compute_are_not_guesses(code):
    assert not programs.is_guess(code)


@pytest.mark.parametrize("stdout, options, letter", [
    ("B\n", ["甲", "乙", "丙"], "B"),
    ("(C)", ["甲", "乙", "丙"], "C"),
    ("答案是：A\n", ["甲", "乙"], "A"),
    ("The answer is C", ["x", "y", "z"], "C"),
    ("working...\nresult: 7\nB", ["甲", "乙"], "B"),  # the last line decides
    ("B. 乙", ["甲", "乙"], "B"),
    ("'Les Arcs'", ["Tignes", "Les Arcs", "Chamonix"], "B"),
    ("les  arcs。", ["Tignes", "Les Arcs", "Chamonix"], "B"),
    ("没有这样的节点", ["没有这样的节点", "节点2"], "A"),
    ("节点２", ["没有这样的节点", "节点2", "节点1"], "B"),  # full-width digit
    ("['y', 'v', 'l']", ["['y', 'a', 'o']", "['y', 'o', 'l']", "['y', 'v', 'l']"], "C"),
    ("['s4', 's3', 's2', 's1']", ["[s1, s2, s3, s4]", "[s4, s3, s2, s1]"], "B"),
    ("(8, 6)", ["8 和 6", "9 和 6", "12 和 20"], "A"),
    ("['Dallas', 'Tarrant']", ["Dallas", "Tarrant", "Dallas, Tarrant", "Collin"], "C"),
    ("{'Tarrant', 'Dallas'}", ["Dallas", "Tarrant", "Dallas, Tarrant", "Collin"], "C"),  # a set: any order
    ("[2, 3, 5]", ["[3, 5, 2]", "[2, 3, 5]", "[2, 2, 3, 5]"], "B"),
    ("{'a': 1}", ["a: 1", "a: 2"], "A"),
    ("5", NUMBERS, "B"),
    ("5.0", NUMBERS, "B"),
    ("4.50", NUMBERS, "C"),
    ("9/2", NUMBERS, "C"),
    ("1,000", ["100", "1000"], "B"),
    ("3.5", ["35", "3.5"], "B"),
    ("1e3", ["100", "1000"], "B"),
    ("50%", ["0.5", "0.25"], "A"),
    ("12", ["10岁", "12岁", "14岁"], "B"),
    ("True", YES_NO, "A"),
    ("False", YES_NO, "B"),
    ("否", YES_NO, "B"),
    ("True", ["符合", "不符合"], "A"),
    ("False", ["存在", "不存在"], "B"),
    ("Bob打喷嚏的概率是: 0.14", ["0.06", "0.14", "0.2"], "B"),  # a labelled value
    ("result = ['y', 'v', 'l']", ["['y', 'a', 'o']", "['y', 'v', 'l']"], "B"),
    ("答案：True", YES_NO, "A"),
    ("False", ["符合", "不符合"], "B"),
])
def test_match_output_ties_what_programs_print_to_one_option(stdout, options, letter):
    assert programs.match_output(stdout, options) == letter


@pytest.mark.parametrize("stdout, options", [
    ("", YES_NO),
    ("   \n", YES_NO),
    ("7", NUMBERS),  # no option has it
    ("E", ["甲", "乙"]),  # a letter outside the options
    ("[2, 3]", ["[3, 2]", "[2, 3, 5]"]),  # a list's order matters
    ("Traceback (most recent call last)", NUMBERS),
    ("3.0", ["3", "3.00"]),  # two options equal it: which one was meant is unknown
    ("None", YES_NO),
    ("概率是: 0.12", ["0.06", "0.14"]),
    ("A\nB\nC\nD", YES_NO),  # every letter printed: D is no option here, and the lines together are none
])
def test_match_output_is_none_for_anything_else(stdout, options):
    assert programs.match_output(stdout, options) is None


def _ok(stdout: str) -> Result:
    return Result(status="ok", stdout=stdout, stderr="", error=None, seconds=0.01)


def test_judge_gives_one_status_per_program_and_only_computed_matches_vote():
    opts = ["3", "5"]
    computed = programs.judge("print(2 + 3)", _ok("5\n"), opts)
    assert (computed.status, computed.answer, computed.vote) == ("ok", "B", "B")
    guess = programs.judge('print("B")', _ok("B\n"), opts)
    assert (guess.status, guess.answer, guess.vote) == ("guess", "B", None)
    unmatched = programs.judge("print(7)", _ok("7\n"), opts)
    assert (unmatched.status, unmatched.answer) == ("unmatched", None)
    failed = programs.judge("1/0", Result(status="error", stdout="", stderr="ZeroDivisionError", error="ZeroDivisionError",
                                          seconds=0.02), opts)
    assert (failed.status, failed.error, failed.vote) == ("error", "ZeroDivisionError", None)
    assert programs.judge(None, None, opts).status == "no_code"
    assert {computed.status, guess.status, unmatched.status, failed.status, "no_code"} <= set(programs.STATUSES)


def test_under_the_letter_prompt_a_printed_letter_is_a_letter_even_when_an_option_reads_as_one():
    options = ["c", "a", "b", "无"]  # as in real questions whose options are list items
    assert programs.match_output("B", options) == "C"  # the value prompt: "B" is the option whose text is b
    assert programs.match_output("B", options, letter_first=True) == "B"
    assert programs.match_output("答案: B", options, letter_first=True) == "B"
    assert programs.match_output("b", options, letter_first=True) == "C"  # lower case is the option's text, not a letter
    assert programs.match_output("无", options, letter_first=True) == "D"  # text that is no letter still matches
    assert programs.judge("x = 1\nprint('ABCD'[x])", Result("ok", "B\n", "", None, 0.1, 0), options,
                 letter_first=True).answer == "B"
