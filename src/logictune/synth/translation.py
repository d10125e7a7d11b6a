"""Translation with a given glossary: "the -> le", "cat -> chat", ... and sentences translated word by
word, literally, as the real data does (even where the result is ungrammatical: "le chat sauts sur le lune").

Distractors: two words swapped, one word replaced by another glossary entry, a near miss that is not the
glossary's form (the grammatical "la lune", an infinitive), a word left untranslated. Questions: a
sentence's translation (4 options), the reverse (which English sentence gives this translation), 是/否 on
one candidate, and single glossary entries. Checker: re-translates with the glossary from ``world``.
"""

from __future__ import annotations

import random

from .core import (
    Difficulty,
    Puzzle,
    Rejected,
    Style,
    SynthQuestion,
    make_options,
    n_options,
    pick_distractors,
    problem_text,
    yes_no,
)

# English word -> (category, {language: (glossary form, near miss)})
_W = [
    # word, category, French, Spanish, German, Chinese
    ("the", "D", ("le", "la"), ("el", "la"), ("der", "die"), ("这个", "那个")),
    ("a", "D", ("un", "une"), ("un", "una"), ("ein", "eine"), ("一个", "一只")),
    ("cat", "N", ("chat", "chatte"), ("gato", "gata"), ("Katze", "Kater"), ("猫", "猫咪")),
    ("dog", "N", ("chien", "chienne"), ("perro", "perra"), ("Hund", "Hunde"), ("狗", "小狗")),
    ("cow", "N", ("vache", "vaches"), ("vaca", "vacas"), ("Kuh", "Kühe"), ("奶牛", "牛")),
    ("moon", "N", ("lune", "lunes"), ("luna", "lunas"), ("Mond", "Monde"), ("月亮", "月球")),
    ("bird", "N", ("oiseau", "oiseaux"), ("pájaro", "ave"), ("Vogel", "Vögel"), ("鸟", "小鸟")),
    ("fish", "N", ("poisson", "poissons"), ("pez", "pescado"), ("Fisch", "Fische"), ("鱼", "鱼儿")),
    ("man", "N", ("homme", "hommes"), ("hombre", "hombres"), ("Mann", "Männer"), ("男人", "男子")),
    ("child", "N", ("enfant", "enfants"), ("niño", "niña"), ("Kind", "Kinder"), ("孩子", "儿童")),
    ("house", "N", ("maison", "maisons"), ("casa", "casas"), ("Haus", "Häuser"), ("房子", "房屋")),
    ("tree", "N", ("arbre", "arbres"), ("árbol", "árboles"), ("Baum", "Bäume"), ("树", "树木")),
    ("river", "N", ("rivière", "fleuve"), ("río", "ríos"), ("Fluss", "Flüsse"), ("河", "河流")),
    ("book", "N", ("livre", "livres"), ("libro", "libros"), ("Buch", "Bücher"), ("书", "书本")),
    ("apple", "N", ("pomme", "pommes"), ("manzana", "manzanas"), ("Apfel", "Äpfel"), ("苹果", "果子")),
    ("jumps", "VI", ("sauts", "saute"), ("salta", "saltar"), ("springt", "springen"), ("跳", "跳跃")),
    ("runs", "VI", ("court", "courir"), ("corre", "correr"), ("läuft", "laufen"), ("跑", "奔跑")),
    ("sleeps", "VI", ("dort", "dormir"), ("duerme", "dormir"), ("schläft", "schlafen"), ("睡觉", "睡")),
    ("swims", "VI", ("nage", "nager"), ("nada", "nadar"), ("schwimmt", "schwimmen"), ("游泳", "游")),
    ("eats", "VT", ("mange", "manger"), ("come", "comer"), ("isst", "frisst"), ("吃", "吃掉")),
    ("sees", "VT", ("voit", "voir"), ("ve", "ver"), ("sieht", "sehen"), ("看见", "看")),
    ("likes", "VT", ("aime", "aimer"), ("gusta", "gustar"), ("mag", "mögen"), ("喜欢", "爱")),
    ("reads", "VT", ("lit", "lire"), ("lee", "leer"), ("liest", "lesen"), ("读", "阅读")),
    ("plays", "VT", ("jouer", "joue"), ("juega", "jugar"), ("spielt", "spielen"), ("玩", "弹奏")),
    ("finds", "VT", ("trouve", "trouver"), ("encuentra", "encontrar"), ("findet", "finden"), ("找到", "发现")),
    ("over", "P", ("sur", "au-dessus"), ("sobre", "encima"), ("über", "oben"), ("越过", "在上面")),
    ("under", "P", ("sous", "dessous"), ("debajo", "bajo"), ("unter", "unten"), ("在下面", "下")),
    ("near", "P", ("près de", "proche"), ("cerca", "junto"), ("bei", "nahe"), ("附近", "靠近")),
    ("with", "P", ("avec", "ensemble"), ("con", "junto con"), ("mit", "zusammen"), ("同", "与")),
    ("big", "A", ("grand", "grande"), ("grande", "gran"), ("groß", "große"), ("大", "巨大")),
    ("small", "A", ("petit", "petite"), ("pequeño", "pequeña"), ("klein", "kleine"), ("小", "微小")),
    ("red", "A", ("rouge", "rouges"), ("rojo", "roja"), ("rot", "rote"), ("红色", "红")),
    ("happy", "A", ("heureux", "heureuse"), ("feliz", "contento"), ("glücklich", "froh"), ("快乐", "高兴")),
    ("old", "A", ("vieux", "vieille"), ("viejo", "vieja"), ("alt", "alte"), ("老", "旧")),
    ("and", "C", ("et", "puis"), ("y", "e"), ("und", "sowie"), ("和", "以及")),
]
LANGS = [("法文", 0, " "), ("西班牙文", 1, " "), ("德文", 2, " "), ("中文", 3, "")]
CATEGORY = {w[0]: w[1] for w in _W}
TEMPLATES = {  # by length band
    1: [["D", "N", "VI"], ["D", "N", "VT", "D", "N"]],
    2: [["D", "N", "VI", "P", "D", "N"], ["D", "A", "N", "VT", "D", "N"], ["D", "N", "VT", "D", "A", "N"]],
    3: [["D", "N", "and", "D", "N", "VI", "P", "D", "N"], ["D", "A", "N", "VT", "D", "N", "P", "D", "A", "N"],
        ["D", "N", "VT", "D", "N", "and", "D", "N"]],
}
INTROS = ["有一个英文到{lang}的词汇表，包含以下对应词汇：", "以下是一个英文-{lang}词汇表：",
          "给定如下英文到{lang}的逐词翻译词典：", "请使用下面的词汇表把英文翻译成{lang}（逐词替换）："]
EXTRA = ["根据这个词汇表，翻译以下英文句子成{lang}：", "翻译时按原句顺序逐词替换。", ""]


def translate(words: list[str], gloss: dict, sep: str) -> str | None:
    out = [gloss.get(w) for w in words]
    return None if None in out else sep.join(out)


def _sentence(rng: random.Random, band: int, vocab: list[str]) -> list[str]:
    t = rng.choice(TEMPLATES[band])
    by_cat: dict[str, list[str]] = {}
    for w in vocab:
        by_cat.setdefault(CATEGORY[w], []).append(w)
    out: list[str] = []
    for c in t:
        if c == "and":
            out.append(c)
            continue
        fresh = [w for w in by_cat[c] if w not in out or c == "D"]  # no noun twice in one sentence
        out.append(rng.choice(fresh or by_cat[c]))
    return out


def generate(rng: random.Random, difficulty: Difficulty, style: Style) -> Puzzle:
    lang, li, sep = rng.choice(LANGS)
    band = max(1, min(3, difficulty.depth + rng.randint(-1, 0) + (1 if rng.random() < 0.3 else 0)))
    cats = {c: [w[0] for w in _W if w[1] == c] for c in ("D", "N", "VI", "VT", "P", "A")}
    vocab = ["the", "a", "and"]
    k = max(2, difficulty.entities // 2)
    for c, m in (("N", k + 1), ("VI", 2), ("VT", 2), ("P", 2), ("A", 2)):
        vocab += rng.sample(cats[c], m)
    table = {w[0]: w[2 + li] for w in _W}
    n_sent = rng.choices([1, 2, 3, 4], [2, 2, 1, 5])[0]
    sents: list[list[str]] = []
    for _ in range(4 * n_sent):
        s = _sentence(rng, band, vocab)
        if s not in sents:
            sents.append(s)
        if len(sents) == n_sent:
            break
    used = list(dict.fromkeys(w for s in sents for w in s))
    extras = rng.sample([w for w in vocab if w not in used], min(rng.randint(1, 3), len(vocab) - len(used)))
    entries = used + extras
    if rng.random() < 0.3:
        rng.shuffle(entries)
    gloss = {w: table[w][0] for w in entries}
    arrow = rng.choice(["->", "->", "→", ":"])
    lines = [f"{w} {arrow} {gloss[w]}" for w in entries]
    extra = EXTRA[style.intro % len(EXTRA)].format(lang=lang)
    problem = problem_text(INTROS[style.intro % len(INTROS)].format(lang=lang), lines, style, extra)
    ctx = (lang, sep, gloss, table)
    questions: list[SynthQuestion] = []
    for s in sents:
        maker = rng.choices([_ask_forward, _ask_reverse, _ask_yes_no, _ask_word], [6, 2, 2, 1])[0]
        try:
            q = maker(rng, difficulty, ctx, s)
        except Rejected:
            continue
        if all(q.body != o.body for o in questions):
            questions.append(q)
    if not questions:
        raise Rejected("no question")
    return Puzzle("translation", problem, questions,
                  world={"language": lang, "sep": sep, "glossary": [[w, gloss[w]] for w in entries]})


def _steps(words, gloss, sep) -> list[str]:
    pairs = "，".join(f"{w} -> {gloss[w]}" for w in dict.fromkeys(words))
    return [f"查词汇表逐词替换：{pairs}。",
            f"按原句顺序把每个词换成词汇表中的译法，得到“{translate(words, gloss, sep)}”。"]


def _variants(rng, words: list[str], gloss: dict, table: dict, sep: str) -> tuple[list, list, dict]:
    """Wrong translations of ``words`` as (near misses, others, reason per text)."""
    target = [gloss[w] for w in words]
    why: dict[str, str] = {}
    near, far = [], []

    def add(tokens, reason, bucket):
        t = sep.join(tokens)
        if t not in why:
            why[t] = reason
            bucket.append(t)

    idx = list(range(len(words)))
    rng.shuffle(idx)
    for i in idx:  # near miss: a real form, but not the glossary's
        alt = table[words[i]][1]
        if alt not in gloss.values():
            add(target[:i] + [alt] + target[i + 1:], f"“{alt}”不是词汇表给出的译法（{words[i]} -> {target[i]}）", near)
    for i in range(len(words) - 1):  # two neighbours swapped
        if target[i] != target[i + 1]:
            t = target[:]
            t[i], t[i + 1] = t[i + 1], t[i]
            add(t, "词序与原句不一致", near)
    others = list(gloss.values())
    for i in idx:  # another glossary entry
        wrong = rng.choice([g for g in others if g != target[i]])
        add(target[:i] + [wrong] + target[i + 1:], f"把“{words[i]}”译成了“{wrong}”，词汇表中是{words[i]} -> {target[i]}",
            far)
    for i in idx:  # left untranslated
        if words[i] != target[i]:
            add(target[:i] + [words[i]] + target[i + 1:], f"“{words[i]}”没有翻译", far)
    if len(words) >= 4:
        t = [table[w][1] if table[w][1] not in gloss.values() else gloss[w] for w in words]
        add(t, "用了不在词汇表中的译法", near)
    return near, far, why


def _ask_forward(rng, d, ctx, words) -> SynthQuestion:
    lang, sep, gloss, table = ctx
    true = translate(words, gloss, sep)
    near, far, why = _variants(rng, words, gloss, table, sep)
    n = n_options(rng)
    options, answer = make_options(rng, true, pick_distractors(rng, near, far, n - 1, d.close), n)
    steps = _steps(words, gloss, sep)
    steps.append("其余选项：" + "；".join(f"{'ABCDE'[i]}项{why[o]}" for i, o in enumerate(options) if i != answer)
                 + "。")
    en = " ".join(words)
    body = rng.choice([f"英文句子 \"{en}\" 翻译成{lang}是：", f"根据词汇表，\"{en}\" 的{lang}翻译是什么？",
                       f"将英文句子“{en}”逐词翻译成{lang}，结果是："])
    return SynthQuestion(body, options, answer, steps, meta={"claims": [["fwd", words, o] for o in options]})


def _ask_reverse(rng, d, ctx, words) -> SynthQuestion:
    lang, sep, gloss, table = ctx
    target = translate(words, gloss, sep)
    true = " ".join(words)
    wrong = []
    for i in range(len(words) - 1):
        if words[i] != words[i + 1]:
            w = words[:]
            w[i], w[i + 1] = w[i + 1], w[i]
            wrong.append(w)
    for i in range(len(words)):
        alts = [x for x in gloss if x != words[i] and CATEGORY[x] == CATEGORY[words[i]]]
        if alts:
            wrong.append(words[:i] + [rng.choice(alts)] + words[i + 1:])
    # the solver's check: every distractor must translate to something else
    texts = [" ".join(w) for w in wrong if translate(w, gloss, sep) != target]
    n = n_options(rng)
    options, answer = make_options(rng, true, pick_distractors(rng, texts[: len(words) - 1], texts, n - 1, d.close), n)
    steps = [*_steps(words, gloss, sep), f"只有“{true}”逐词翻译后恰好是“{target}”。"]
    return SynthQuestion(f"哪个英文句子按词汇表逐词翻译后是“{target}”？", options, answer, steps,
                         meta={"claims": [["rev", target, o.split(" ")] for o in options]})


def _ask_yes_no(rng, d, ctx, words) -> SynthQuestion:
    lang, sep, gloss, table = ctx
    true = translate(words, gloss, sep)
    want = rng.random() < 0.5
    shown = true
    steps = _steps(words, gloss, sep)
    if not want:
        near, far, why = _variants(rng, words, gloss, table, sep)
        shown = pick_distractors(rng, near, far, 1, d.close)[0]
        steps.append(f"而“{shown}”中{why[shown]}，所以不对。")
    else:
        steps.append("与题中给出的译文完全一致。")
    options, answer = yes_no(rng, want)
    en = " ".join(words)
    return SynthQuestion(f"英文句子 \"{en}\" 按词汇表翻译成{lang}是“{shown}”吗？", options, answer, steps,
                         meta={"claims": [["yn", words, shown, o == "是"] for o in options]})


def _ask_word(rng, d, ctx, words) -> SynthQuestion:
    lang, sep, gloss, table = ctx
    w = rng.choice([x for x in words if x != gloss[x]] or words)
    near = [table[w][1]] if table[w][1] not in gloss.values() else []
    far = [g for g in gloss.values() if g != gloss[w]]
    n = n_options(rng)
    options, answer = make_options(rng, gloss[w], pick_distractors(rng, near, far, n - 1, d.close), n)
    return SynthQuestion(f"根据词汇表，单词“{w}”对应的{lang}是：", options, answer,
                         [f"词汇表中有：{w} -> {gloss[w]}。"], meta={"claims": [["word", w, o] for o in options]})


# ---------------------------------------------------------------- brute-force checker


def check(puzzle: Puzzle, question_index: int) -> list[bool]:
    """Re-translate with the glossary, word by word, and compare each option."""
    table = dict(puzzle.world["glossary"])
    sep = puzzle.world["sep"]

    def tr(ws):
        if any(w not in table for w in ws):
            return None
        return sep.join(table[w] for w in ws)

    out = []
    for c in puzzle.questions[question_index].meta["claims"]:
        if c[0] == "fwd":
            out.append(tr(c[1]) == c[2])
        elif c[0] == "rev":
            out.append(tr(c[2]) == c[1])
        elif c[0] == "yn":
            out.append((tr(c[1]) == c[2]) == c[3])
        elif c[0] == "word":
            out.append(table.get(c[1]) == c[2])
        else:
            raise ValueError(c[0])
    return out
