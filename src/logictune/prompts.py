"""The prompts: one definition that training and prediction share, rendered with the model's own template.

A model is asked at inference exactly what it was trained on, so every place that builds a prompt
for the answering model goes through :func:`build_messages` / :func:`render_prompt`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .data import LETTERS, Problem, Question
from .voting import CONDITIONALS

SYSTEM_PROMPT = "你是一个逻辑推理专家，擅长解决逻辑推理问题。"
ANSWER_PREFIX = "答案是："
# Generation stops once the answer line is out. The letter must be followed by what ends the line
# (newline, "。" or "."), so the stop is decided one token after the letter: a hedge ("A或B") or a word
# ("Apple") is seen before stopping. A hypothetical ("如果答案是：B") never stops, as extraction skips it.
ANSWER_STOP_REGEX = ("".join(f"(?<!{w})" for w in CONDITIONALS)
                     + r"答案\s*[是为]?\s*\**\s*[:：]\s*\**\s*[（(【\[]?\s*[{letters}][ \t]*[）)】\]]?[ \t]*\**[ \t]*"
                     r"(?:\n|[。.])")
# The same stop as plain strings, for engines without regex stops (vLLM, OpenAI-compatible servers).
_STOP_MARKERS = ("答案是：", "答案是:", "答案：", "答案为：")


def answer_stop_regex(n_options: int) -> str:
    """The stop regex for a question with ``n_options`` options: a letter outside them never stops."""
    return ANSWER_STOP_REGEX.format(letters=LETTERS[:n_options])


def answer_stop_strings(n_options: int) -> list[str]:
    return [f"{m}{x}{end}" for m in _STOP_MARKERS for x in LETTERS[:n_options] for end in ("\n", "。")]


# The competition baseline's instruction (closed-world assumption included: the problems rely on it).
TASK = ("以下是一个逻辑推理的题目，形式为单项选择题。所有的问题都是（close-world assumption）闭世界假设，"
        "即未观测事实都为假。")
INSTRUCTION = TASK + "请逐步分析问题并在最后一行输出答案，最后一行的格式为“答案是：A”。"


def format_options(options: list[str]) -> str:
    return "\n".join(f"{LETTERS[i]}. {opt}" for i, opt in enumerate(options))


def user_message(problem: Problem, question: Question, instruction: str = INSTRUCTION) -> str:
    """The user turn: instruction, the problem statement, the question and its lettered options."""
    return (
        f"{instruction}\n\n### 题目：\n{problem.problem.strip()}\n\n"
        f"### 问题：\n{question.body}\n{format_options(question.options)}"
    )


@dataclass(frozen=True)
class Shot:
    """A solved question shown before the one asked (few-shot; see retrieval.py)."""

    problem: Problem
    question: Question
    answer: str
    rationale: str | None = None


def build_messages(problem: Problem, question: Question, system: str | None = SYSTEM_PROMPT,
                   shots: Sequence[Shot] = ()) -> list[dict]:
    """The conversation the model answers. Shots come first as earlier turns of it: the same user message,
    answered the way the model should answer (the answer line, after the rationale when there is one)."""
    messages = [{"role": "system", "content": system}] if system else []
    for shot in shots:
        messages.append({"role": "user", "content": user_message(shot.problem, shot.question)})
        messages.append({"role": "assistant", "content": completion_text(shot.answer, shot.rationale)})
    messages.append({"role": "user", "content": user_message(problem, question)})
    return messages


def answer_line(letter: str) -> str:
    return f"{ANSWER_PREFIX}{letter}"


def completion_text(letter: str, rationale: str | None = None) -> str:
    """What the model should write: the rationale (if any), then the answer line as its last line."""
    if rationale and rationale.strip():
        return f"{rationale.strip()}\n{answer_line(letter)}"
    return answer_line(letter)


def render_messages(tokenizer, messages: list[dict]) -> str:
    """The generation prompt as text, using the model's chat template when it has one.

    Base models without a template get a plain-text layout that ends where the answer begins.
    """
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return "".join(f"{m['content']}\n\n" for m in messages) + "解答：\n"


def render_prompt(tokenizer, problem: Problem, question: Question, system: str | None = SYSTEM_PROMPT,
                  shots: Sequence[Shot] = ()) -> str:
    return render_messages(tokenizer, build_messages(problem, question, system, shots))


def render_direct_prompt(tokenizer, problem: Problem, question: Question, shots: Sequence[Shot] = ()) -> str:
    """The prompt for answering without a chain: the assistant turn already opened with ``答案是：``.

    The next token's distribution over the option letters is the model's answer.
    """
    return render_prompt(tokenizer, problem, question, shots=shots) + ANSWER_PREFIX


# ---------------------------------------------------------------- the program prompt

# The model writes one Python program; the sandbox runs it and its output is matched to an option
# (programs.match_output). "letter": print the chosen option's letter; "value": print the computed value
# (a number, a list, the option's text), which the matcher ties to an option. Both are measured in
# bench/README.md; the default was chosen on the training split.
PROGRAM_STYLES = ("letter", "value")
_PROGRAM_COMMON = TASK + (
    "请写一个 Python 程序来解答：把题目中的事实写成数据（列表、字典、元组），"
    "把规则写成函数，用它们计算出问题的答案，并逐一检查每个选项。"
)
PROGRAM_INSTRUCTIONS = {
    "letter": _PROGRAM_COMMON + "程序最后用 print 输出正确选项的字母（例如 A）。只输出一个 ```python 代码块。",
    "value": _PROGRAM_COMMON + "程序最后用 print 输出计算得到的答案本身（数值、列表、是/否或选项的内容），"
             "不要输出选项字母。只输出一个 ```python 代码块。",
}
# A program ends with its closing fence: stop there (the opening fence carries a language tag, so it never
# matches). The hf and llama.cpp engines look at the decoded tail (engines.STOP_WINDOW_TOKENS).
PROGRAM_STOP_REGEX = r"\n```[ \t]*\n"
PROGRAM_STOP_STRINGS = ["\n```\n"]


def _program_style(style: str) -> str:
    if style not in PROGRAM_INSTRUCTIONS:
        raise ValueError(f"program style must be one of {', '.join(PROGRAM_STYLES)}, got {style!r}")
    return PROGRAM_INSTRUCTIONS[style]


def build_program_messages(problem: Problem, question: Question, style: str = "letter",
                           system: str | None = SYSTEM_PROMPT) -> list[dict]:
    """The conversation asking for a program (predict --method program, and training on program rationales)."""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": user_message(problem, question, _program_style(style))})
    return messages


def render_program_prompt(tokenizer, problem: Problem, question: Question, style: str = "letter") -> str:
    return render_messages(tokenizer, build_program_messages(problem, question, style))


def program_completion(code: str) -> str:
    """What the model should write under the program prompt: one fenced block."""
    return f"```python\n{code.strip()}\n```"


# ---------------------------------------------------------------- the teacher prompt

# The teacher is shown the answer and asked for a derivation a small student can imitate. What it writes
# (less its answer line) is what the student is trained to write under the answering prompt above.
TEACHER_SYSTEM_PROMPT = "你是一位逻辑推理老师，讲解简洁、严谨，学生可以照着学会。"
TEACHER_INSTRUCTION = (
    "下面是一道逻辑推理选择题及其正确答案。所有的问题都是（close-world assumption）闭世界假设，即未观测事实都为假。"
    "请写出从题目条件推出正确答案的简短推理过程，供学生模仿：逐步写出用到的条件和由此得出的结论，"
    "必要时说明其他选项为什么不对；像独立解题一样书写，不要提到“已知答案”。"
    "最后一行只写答案，格式为“答案是：A”。"
)
TEACHER_ANSWER_HEADER = "### 正确答案："


def teacher_user_message(problem: Problem, question: Question, answer: str) -> str:
    """Instruction, problem, question, lettered options and the known answer."""
    return (
        f"{TEACHER_INSTRUCTION}\n\n### 题目：\n{problem.problem.strip()}\n\n"
        f"### 问题：\n{question.body}\n{format_options(question.options)}\n\n{TEACHER_ANSWER_HEADER}{answer}"
    )


def build_teacher_messages(problem: Problem, question: Question, answer: str | None = None,
                           system: str | None = TEACHER_SYSTEM_PROMPT) -> list[dict]:
    """Chat messages asking for a rationale that reaches ``answer`` (default: the question's key)."""
    answer = answer or question.answer
    if not answer:
        raise ValueError("the teacher prompt needs the answer: the question has no key")
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": teacher_user_message(problem, question, answer)})
    return messages


# The program teacher (a served model, or the model itself for STaR's rationalization) sees the key and the
# program prompt; what it writes is kept only if running it prints the key, and the student is trained on
# the block under the plain program prompt (no key).
PROGRAM_HINT = "\n\n已知正确答案是 {answer}。请写出从题目条件计算出这个答案的程序，不要直接输出字母，也不要在程序中提到已知答案。"


def build_program_teacher_messages(problem: Problem, question: Question, style: str = "letter",
                                   answer: str | None = None, system: str | None = SYSTEM_PROMPT) -> list[dict]:
    """The program prompt with the key shown (``answer``, default the question's)."""
    answer = answer or question.answer
    if not answer:
        raise ValueError("the program teacher prompt needs the answer: the question has no key")
    messages = build_program_messages(problem, question, style, system)
    messages[-1] = {**messages[-1], "content": messages[-1]["content"] + PROGRAM_HINT.format(answer=answer)}
    return messages


def teacher_messages(problem: Problem, question: Question, method: str = "cot", style: str = "letter") -> list[dict]:
    """The teacher's prompt (the key shown) for a chain, or for a program of ``style``."""
    if method == "program":
        return build_program_teacher_messages(problem, question, style)
    return build_teacher_messages(problem, question)
