"""The program-answer layer: a completion's code block, whether it is a guess, what its output answers.

Pure functions (no model, no process): predict runs the code in :mod:`logictune.sandbox` and hands the
result here. One set of program statuses, :data:`STATUSES`, serves predict, evaluate, distill and rewards.
"""

from __future__ import annotations

import ast
import math
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from . import sandbox, voting
from .data import LETTERS
from .sandbox import STATUSES as SANDBOX_STATUSES
from .sandbox import Result

# The sandbox's statuses, then the program-level ones: no code block, a constant guess, output that ties
# to no option. "ok" means the output matched an option and the program computed it.
STATUSES = (*SANDBOX_STATUSES, "no_code", "guess", "unmatched")

# ---------------------------------------------------------------- the code block

_FENCE = re.compile(r"```[ \t]*([\w+-]*)[ \t]*\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL)


def extract_code(text: str) -> str | None:
    """The program in a completion: its first ```python block (an untagged block if none is tagged).

    A block cut off by the token limit is taken up to the end: it may still run, and the sandbox says if not.
    """
    blocks = [(m.group(1), m.group(2)) for m in _FENCE.finditer(text)]
    tagged = [code for tag, code in blocks if tag.lower() in ("python", "python3", "py")]
    code = (tagged or [code for tag, code in blocks if not tag] or [None])[0]
    return code if code and code.strip() else None


# ---------------------------------------------------------------- guesses


def _constant(node: ast.AST | None, names: dict[str, bool]) -> bool:
    """Whether ``node`` evaluates to the same value whatever the program computed."""
    if node is None or isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return names.get(node.id, False)
    if isinstance(node, ast.JoinedStr):
        return all(_constant(v, names) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        return _constant(node.value, names)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_constant(e, names) for e in node.elts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return names.get(node.func.id + "()", False) and not node.args and not node.keywords
    return False


_BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.Match, ast.IfExp,
             ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.BoolOp)


def _constant_names(tree: ast.Module) -> dict[str, bool]:
    """Names bound only to constants, by unconditional top-level assignments; ``f()`` for functions that
    only ever return constants and branch on nothing. Any other binding (a loop target, an assignment
    inside an ``if`` or a function, ``+=``) makes the name depend on the computation."""
    stores: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
    names = dict.fromkeys(stores, False)
    for stmt in tree.body:  # in order: a name may be bound to an earlier constant name
        if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
            ok = _constant(stmt.value, names)
            names.update({t.id: ok and stores[t.id] == 1 for t in stmt.targets})
        elif isinstance(stmt, ast.FunctionDef):
            returns = [n for n in ast.walk(stmt) if isinstance(n, ast.Return)]
            flat = not any(isinstance(n, _BRANCHES) for n in ast.walk(stmt))
            names[stmt.name + "()"] = flat and not stmt.args.args and all(_constant(r.value, names) for r in returns)
    return names


def _print_calls(tree: ast.AST) -> list[tuple[ast.Call, bool]]:
    """Every ``print(...)`` call with whether it sits under a branch or loop (its output then depends on it)."""
    found: list[tuple[ast.Call, bool]] = []

    def visit(node: ast.AST, branched: bool) -> None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            found.append((node, branched))
        for child in ast.iter_child_nodes(node):
            visit(child, branched or isinstance(node, _BRANCHES))

    visit(tree, False)
    return found


def is_guess(code: str) -> bool:
    """A program whose printed value depends on no computation: every ``print`` is unconditional and
    prints constants (literals, names bound only to literals, functions that only return literals).

    ``print("A")``, ``a = "A"; print(a)`` and ``x = f(); print("B")`` are guesses; ``print("A" if x else "B")``
    and a ``print`` inside ``if``/``for`` are not. Decided on the AST, never by running it.
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    names = _constant_names(tree)
    calls = _print_calls(tree)
    return bool(calls) and all(not branched and all(_constant(a, names) for a in call.args)
                               for call, branched in calls)


# ---------------------------------------------------------------- matching output to an option

_YES = ("是", "对", "正确", "符合", "能", "可以", "真", "成立", "有", "会", "存在", "yes", "true")
_NO = ("否", "不是", "错", "错误", "不符合", "不能", "不可以", "假", "不成立", "没有", "不会", "不存在", "no", "false")
_QUOTES = "'\"`‘’“”「」『』"
# Dots and commas between digits are part of a number ("3.5" is not "35").
_PUNCT = re.compile(r"[\s" + re.escape(_QUOTES) + r"。、;；:：!！?？()（）\[\]【】{}]+|(?<!\d)[.,，](?!\d)")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:,\d{3})*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?:/\d+)?%?")
_ITEM_SPLIT = re.compile(r"\s*(?:,|，|、|;|；|和|与|及|以及|->|→|\band\b|\s)\s*")
_LETTER_LINE = re.compile(r"[(（\[【]?\s*([A-Z])\s*[)）\]】]?(?:\s*[.．:：、)]\s*(.*))?", re.DOTALL)


def _norm(text: str) -> str:
    """NFKC, lower case, no spaces, quotes or punctuation: the text an option and an output share."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", str(text))).lower()


def _number(text: str) -> Fraction | float | None:
    """The one number ``text`` is, in any format: 3, 3.0, 1e3, 1,000, 1/2, 50% (a unit around it is fine
    for an option such as "12岁" or "节点2"); None when there are none or several."""
    text = unicodedata.normalize("NFKC", text).strip()
    found = _NUMBER.findall(text)
    if len(found) != 1:
        return None
    s = found[0].replace(",", "")
    try:
        if s.endswith("%"):
            return Fraction(s[:-1]) / 100
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None


def _items(value: object) -> list[str] | None:
    """A printed container's items as normalised text (a dict as its ``key:value`` pairs)."""
    if isinstance(value, dict):
        return [_norm(f"{k}:{v}") for k, v in value.items()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_norm(x) if not isinstance(x, (list, tuple)) else _norm(" ".join(map(str, x))) for x in value]
    return None


def _option_items(option: str) -> list[str]:
    body = unicodedata.normalize("NFKC", option).strip().strip("[](){}（）【】")
    return [_norm(x) for x in _ITEM_SPLIT.split(body) if _norm(x)]


def _unique(hits: Sequence[str]) -> str | None:
    return hits[0] if len(set(hits)) == 1 else None


def _bool_of(text: str) -> bool | None:
    t = _norm(text)
    return True if t in _YES else False if t in _NO else None


def _match_line(line: str, options: Sequence[str], letter_first: bool = False) -> str | None:
    letters = LETTERS[: len(options)]
    norm_options = [_norm(o) for o in options]
    line = line.strip().strip(_QUOTES).strip()
    if not line:
        return None
    # 2. (first when the prompt asked for the letter) A letter alone ("B", "(B)", "B.") or before its option's text.
    m = _LETTER_LINE.fullmatch(unicodedata.normalize("NFKC", line))
    letter = m.group(1) if m and m.group(1) in letters and (
        not m.group(2) or _norm(m.group(2)) == norm_options[letters.index(m.group(1))]) else None
    if letter and letter_first:
        return letter
    # 1. An option's text, up to spacing, quotes and punctuation (also after its letter: "B. text").
    text = _norm(line)
    if hit := _unique([letters[i] for i, o in enumerate(norm_options) if o and o == text]):
        return hit
    if letter:
        return letter
    # 3. A number equal to exactly one option's number ("1,000" is a number here, not a tuple).
    if _NUMBER.fullmatch(unicodedata.normalize("NFKC", line).replace(" ", "")):
        number = _number(line)
        if number is not None and (hit := _unique(
                [letters[i] for i, o in enumerate(options)
                 if (x := _number(o)) is not None and math.isclose(x, number, rel_tol=1e-9, abs_tol=1e-9)])):
            return hit
    # 4. A Python repr of a container against the option's items (sets and dicts in any order).
    try:
        value = ast.literal_eval(line)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = None
    items = _items(value)
    if items is not None:
        ordered = not isinstance(value, (set, frozenset, dict))
        if hit := _unique([letters[i] for i, o in enumerate(options)
                           if (_option_items(o) == items if ordered else sorted(_option_items(o)) == sorted(items))]):
            return hit
    # 5. True/False (and yes/no words) against 是/否-style options.
    said = _bool_of(line)
    if said is not None:
        if hit := _unique([letters[i] for i, o in enumerate(options) if _bool_of(o) is said]):
            return hit
    # 6. A short answer line naming a letter ("答案是：B", "Answer: C").
    if len(line) <= 40 and (hit := voting.extract_answer(line, len(options))):
        return hit
    # 7. A labelled value ("概率是: 0.14", "result = [1, 2]"): what follows the last colon or equals sign.
    label, sep, value = unicodedata.normalize("NFKC", line).rpartition(":" if ":" in line or "：" in line else "=")
    return _match_line(value, options, letter_first) if sep and label.strip() and value.strip() else None


def match_output(stdout: str, options: Sequence[str], *, letter_first: bool = False) -> str | None:
    """The option a program's output answers, or None (unmatched).

    The last non-empty line decides (earlier lines are often working); failing that, the whole output
    (a list printed over several lines). Each rule must point at exactly one option, or it is no match.
    ``letter_first`` (the letter prompt asked for the option's letter): a printed letter is that option even
    when another option's text is that letter (options ``["c", "a", "b"]``: "B" is B, not the option "b").
    """
    lines = [x for x in stdout.splitlines() if x.strip()]
    if not lines:
        return None
    return (_match_line(lines[-1], options, letter_first)
            or (_match_line(" ".join(lines), options, letter_first) if len(lines) > 1 else None))


# ---------------------------------------------------------------- one program's outcome


@dataclass(frozen=True)
class Outcome:
    status: str  # one of STATUSES
    answer: str | None  # the option the output matched (also for a guess: recorded, never voted)
    stdout: str = ""
    error: str | None = None
    seconds: float = 0.0

    @property
    def vote(self) -> str | None:
        """What this program votes: only a computed, matched answer."""
        return self.answer if self.status == "ok" else None


def judge(code: str | None, result: Result | None, options: Sequence[str], *, stdout_cap: int = 2000,
          letter_first: bool = False) -> Outcome:
    """The outcome of one program: ``result`` is the sandbox's run of ``code`` (None when there is no code)."""
    if code is None or result is None:
        return Outcome("no_code", None)
    stdout = result.stdout[-stdout_cap:]
    if result.status != "ok":
        return Outcome(result.status, None, stdout, result.error, result.seconds)
    answer = match_output(result.stdout, options, letter_first=letter_first)
    status = "unmatched" if answer is None else "guess" if is_guess(code) else "ok"
    return Outcome(status, answer, stdout, None, result.seconds)


# ---------------------------------------------------------------- running a question's programs


@dataclass
class ProgramSample(voting.Sample):
    """A sampled program: ``answer`` is its vote (None unless computed and matched), ``matched`` the option
    its output matched (a guess's too, recorded but not voted), ``status`` one of programs.STATUSES."""

    status: str = "no_code"
    matched: str | None = None
    stdout: str = ""
    error: str | None = None
    seconds: float = 0.0


class ProgramRunner:
    """Runs a question's programs in the sandbox's pool (cached by program hash) and judges their outputs.

    Samples already judged are kept, so an adaptive round runs only its new programs; ``waited`` is the
    wall time the caller spent blocked on programs."""

    def __init__(self, limits: sandbox.Limits, workers: int = 2, count_guesses: bool = False,
                 letter_first: bool = False):
        self.pool = sandbox.Pool(workers=workers, limits=limits)
        self.count_guesses = count_guesses
        self.letter_first = letter_first  # the letter prompt: a printed letter is read as a letter first
        self.waited = 0.0

    def samples(self, old: Sequence[voting.Sample], completions: Sequence, options: Sequence[str]) -> list[voting.Sample]:
        """``old`` judged already, plus a sample for each completion after them (engine Completions)."""
        started = time.perf_counter()
        new = completions[len(old):]
        codes = [extract_code(c.text) for c in new]
        futures = [self.pool.submit(code) if code else None for code in codes]
        out = list(old)
        for c, code, fut in zip(new, codes, futures, strict=True):
            o = judge(code, fut.result() if fut else None, options, letter_first=self.letter_first)
            vote = o.answer if o.status == "ok" or (self.count_guesses and o.status == "guess") else None
            out.append(ProgramSample(c.text, vote, c.logprob, c.tokens, status=o.status, matched=o.answer,
                                     stdout=o.stdout, error=o.error, seconds=round(o.seconds, 3)))
        self.waited += time.perf_counter() - started
        return out

    def close(self) -> None:
        self.pool.close()
