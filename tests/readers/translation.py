"""Translation with a glossary: "cat -> chat" lines; sentences are translated word by word, in order."""

from __future__ import annotations

import re

from . import Unread, listed, yes_no

LANGS = ["西班牙文", "法文", "德文", "中文"]


def _glossary(problem: str) -> dict[str, str]:
    out = {}
    for line in listed(problem):
        m = re.fullmatch(r"([a-z]+) (?:->|→|:) (.+)", line)
        if not m:
            raise Unread(f"glossary line {line!r}")
        out[m[1]] = m[2]
    return out


def read(problem: str, q: str, options: list[str]) -> list[bool]:
    gloss = _glossary(problem)
    lang = next((x for x in LANGS if x in problem.splitlines()[0]), None)
    if lang is None:
        raise Unread("no language")
    sep = "" if lang == "中文" else " "

    def tr(en: str) -> str | None:
        words = en.split(" ")
        return sep.join(gloss[w] for w in words) if all(w in gloss for w in words) else None

    L = re.escape(lang)
    if m := re.fullmatch(rf"英文句子 \"(.+)\" 按词汇表翻译成{L}是“(.+)”吗？", q):
        return yes_no(options, tr(m[1]) == m[2])
    if m := (re.fullmatch(rf"英文句子 \"(.+)\" 翻译成{L}是：", q) or re.fullmatch(rf"根据词汇表，\"(.+)\" 的{L}翻译是什么？", q)
             or re.fullmatch(rf"将英文句子“(.+)”逐词翻译成{L}，结果是：", q)):
        return [o == tr(m[1]) for o in options]
    if m := re.fullmatch(r"哪个英文句子按词汇表逐词翻译后是“(.+)”？", q):
        return [tr(o) == m[1] for o in options]
    if m := re.fullmatch(rf"根据词汇表，单词“(.+)”对应的{L}是：", q):
        return [o == gloss.get(m[1]) for o in options]
    raise Unread(q)
