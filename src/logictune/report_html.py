"""One self-contained HTML page to read runs: every question, its chains or programs, their outputs and votes.

``write_run_page`` makes ``report.html`` beside ``report.md`` (``evaluate --report``); ``compare`` makes the
same page for two runs of the same questions, with McNemar's test, the per-family change and the questions
that flipped. The page opens from disk with no server and no network: its script and styles are inlined
(``report_assets/``), the data is two blocks in the page. Model text is hostile input: it only ever reaches the
page inside its data blocks (JSON with ``<``, ``>`` and ``&`` escaped; the chains and programs also gzipped and
base64-encoded), so ``</script>`` cannot end them, and the script
puts it into the page with ``textContent``, never as markup. Rows are drawn in pages as the table scrolls
and a question's work only when it is opened, so a 1,328-question run opens fast (``bench/README.md``).
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from . import data, evaluate
from .data import Problem
from .synth import census

# A sample's text or stdout longer than this keeps its head and tail (a chain that loops to the token limit).
MAX_TEXT = 6000


@dataclass
class Run:
    """One prediction run: its submission, its details rows by (id, question index), its recorded settings."""

    name: str
    pred: Path
    problems: list[Problem]
    details: dict[tuple[str, int], dict] = field(default_factory=dict)
    info: dict = field(default_factory=dict)


def resolve_pred(path: str | os.PathLike) -> Path:
    """A run folder's predictions file (``pred.jsonl``, or its only non-details ``.jsonl``), or the file."""
    p = Path(path)
    if not p.is_dir():
        return p
    if (p / "pred.jsonl").exists():
        return p / "pred.jsonl"
    found = sorted(x for x in p.glob("*.jsonl") if not x.name.endswith(".details.jsonl"))
    if len(found) != 1:
        raise ValueError(f"{p}: {len(found)} predictions files (want pred.jsonl or one .jsonl); name the file")
    return found[0]


def load_run(path: str | os.PathLike, details: str | os.PathLike | None = None, name: str | None = None) -> Run:
    """Load a run from its folder or submission file; its details file and ``.run.json`` when present."""
    pred = resolve_pred(path)
    details = Path(details) if details is not None else data.details_path(pred)
    rows = evaluate.load_details(details) if details.exists() else []
    info_path = pred.with_suffix(".run.json")
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.exists() else {}
    label = name or (pred.parent.name if pred.name == "pred.jsonl" and pred.parent.name else pred.stem)
    return Run(label, pred, data.load_problems(pred),
               {(str(r["id"]), int(r["question_index"])): r for r in rows}, info)


# ---------------------------------------------------------------- the embedded data


def _cap(text: str | None, limit: int = MAX_TEXT) -> str | None:
    if text is None or len(text) <= limit:
        return text
    head, tail = text[: limit * 2 // 3], text[-(limit // 3):]
    return f"{head}\n… [{len(text) - len(head) - len(tail)} characters cut] …\n{tail}"


def _sample(s: dict) -> dict:
    out = {"text": _cap(s.get("text") or ""), "answer": s.get("answer"), "tokens": s.get("tokens"),
           "logprob": round(s["logprob"], 2) if isinstance(s.get("logprob"), int | float) else None}
    if "status" in s:  # a program
        out |= {"status": s.get("status"), "matched": s.get("matched"), "stdout": _cap(s.get("stdout")),
                "error": s.get("error"), "seconds": s.get("seconds")}
    return out


def question_status(row: dict | None) -> str:
    """One word for how a question was answered, as report.md's "question status" table counts it."""
    if row is None:
        return "no details"
    method = row.get("method")
    if method == "direct":
        return "direct"
    if not row.get("fallback"):
        return "ok" if method == "program" else "voted"
    counts = Counter(s.get("status") for s in row.get("samples") or [])
    if method == "program":
        return "fallback: " + (counts.most_common(1)[0][0] if counts else "no samples")
    return "fallback: no answer"


def _run_cell(pred_answer: str | None, gold: str | None, row: dict | None) -> dict:
    row = row or {}
    samples = row.get("samples") or []
    fallback = row.get("fallback_samples") or []
    probs = row.get("option_probs")
    return {
        "answer": pred_answer,
        "correct": None if gold is None or pred_answer is None else pred_answer == gold,
        "method": row.get("method"),
        "status": question_status(row or None),
        "source": evaluate.answer_source(row) if row else None,
        "fallback": bool(row.get("fallback")),
        "votes": row.get("votes") or {},
        "tokens": sum(int(s.get("tokens") or 0) for s in samples + fallback),
        "programs": dict(Counter(s["status"] for s in samples if s.get("status"))),
        "probs": {k: round(v, 3) for k, v in probs.items()} if isinstance(probs, dict) else None,
        "samples": [_sample(s) for s in samples],
        "fallback_samples": [_sample(s) for s in fallback],
    }


def page_data(runs: list[Run], gold: list[Problem] | None = None, title: str = "logictune report") -> dict:
    """What the page embeds: every question of ``gold`` (or of the first run) with each run's work.

    Questions are matched by (id, question index); a problem's text is stored once (``problems``) and each
    question names its index there. ``correct`` is None without gold answers.
    """
    base = gold if gold is not None else runs[0].problems
    answers = [{(p.id, i): q.answer for p in r.problems for i, q in enumerate(p.questions)} for r in runs]
    problems, questions = [], []
    for p in base:
        family = census.tag_problem(p.problem, [q.question for q in p.questions])
        problems.append(p.problem)
        for i, q in enumerate(p.questions):
            g = q.answer if gold is not None else None
            questions.append({
                "id": p.id, "qi": i, "family": family, "problem": len(problems) - 1,
                "question": q.question, "options": q.options, "gold": g,
                "runs": [_run_cell(a.get((p.id, i)), g, r.details.get((p.id, i))) for a, r in zip(answers, runs,
                                                                                                   strict=True)],
            })
    return {"title": title, "runs": [{"name": r.name, "pred": str(r.pred), "method": r.info.get("method")
                                      or _method(r)} for r in runs],
            "gold": gold is not None, "problems": problems, "questions": questions}


def _method(run: Run) -> str | None:
    methods = Counter(str(r.get("method")) for r in run.details.values())
    return methods.most_common(1)[0][0] if methods else None


# ---------------------------------------------------------------- compare


def compare_figures(page: dict) -> dict:
    """Two runs' accuracy, McNemar's test on the questions they differ on, per-family change and flips."""
    qs = page["questions"]
    if len(page["runs"]) != 2:
        raise ValueError("compare needs exactly two runs")
    out: dict = {"n": len(qs), "differ": sum(q["runs"][0]["answer"] != q["runs"][1]["answer"] for q in qs)}
    if not page["gold"]:
        return out | {"accuracy": None, "mcnemar": None, "families": {}, "right_to_wrong": [], "wrong_to_right": []}
    a = [bool(q["runs"][0]["correct"]) for q in qs]
    b = [bool(q["runs"][1]["correct"]) for q in qs]
    only_a, only_b, p = evaluate.mcnemar(a, b)
    fams: dict[str, dict] = {}
    for q, x, y in zip(qs, a, b, strict=True):
        f = fams.setdefault(q["family"], {"n": 0, "a": 0, "b": 0, "only_a": 0, "only_b": 0})
        f["n"] += 1
        f["a"] += x
        f["b"] += y
        f["only_a"] += x and not y
        f["only_b"] += y and not x
    key = [f"{q['id']}#{q['qi']}" for q in qs]
    return out | {
        "accuracy": [{"correct": sum(v), "accuracy": sum(v) / len(v) if v else None,
                      "ci": evaluate.wilson(sum(v), len(v))} for v in (a, b)],
        "mcnemar": {"only_a": only_a, "only_b": only_b, "p": p},
        "families": dict(sorted(fams.items(), key=lambda kv: -kv[1]["n"])),
        "right_to_wrong": [k for k, x, y in zip(key, a, b, strict=True) if x and not y],
        "wrong_to_right": [k for k, x, y in zip(key, a, b, strict=True) if y and not x],
    }


def summary_lines(f: dict) -> list[str]:
    """What ``logictune compare`` prints: each run's accuracy, McNemar, the flips and the page."""
    names = f["runs"]
    lines = [f"gold: {f['gold_file'] or 'none: no correctness, only where the answers differ'}"]
    if f["mcnemar"] is not None:
        lines += [f"{name}: accuracy {a['accuracy']:.4f} ({a['correct']}/{f['n']})"
                  for name, a in zip(names, f["accuracy"], strict=True)]
        m = f["mcnemar"]
        lines.append(f"McNemar: only A right {m['only_a']}, only B right {m['only_b']}, p = {m['p']:.3g}")
    lines += [f"answers differ: {f['differ']}/{f['n']}", f"page: {f['out']}"]
    return lines


def default_gold(runs: list[Run]) -> Path | None:
    """The data file a run recorded (``pred.run.json``'s ``data``) when it exists and every question has a key."""
    for r in runs:
        path = r.info.get("data")
        if path and Path(path).exists():
            problems = data.load_problems(path)
            if all(q.answer for p in problems for q in p.questions):
                return Path(path)
    return None


def compare(run_a: str | os.PathLike, run_b: str | os.PathLike, gold: str | os.PathLike | None = None,
            out: str | os.PathLike = "compare.html") -> dict:
    """Write the two-run page to ``out``; returns its figures (``compare_figures``) with the paths used."""
    runs = [load_run(run_a), load_run(run_b)]
    if runs[0].name == runs[1].name:
        runs[0].name, runs[1].name = f"A: {runs[0].name}", f"B: {runs[1].name}"
    gold = Path(gold) if gold is not None else default_gold(runs)
    gold_problems = data.load_problems(gold) if gold is not None else None
    # The same questions, or align's error naming what differs.
    reference = gold_problems or [_with_answers(p) for p in runs[0].problems]
    for r in runs:
        evaluate.align(r.problems, reference)
    page = page_data(runs, gold_problems, title=f"{runs[0].name} vs {runs[1].name}")
    figures = compare_figures(page)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    data.atomic_write_text(path, render(page, _compare_html(page, figures, gold)))
    return figures | {"out": str(path), "gold_file": str(gold) if gold else None,
                      "runs": [r.name for r in runs]}


def _with_answers(p: Problem) -> Problem:
    """A copy whose questions all have an answer, so ``align`` checks ids and options only."""
    from dataclasses import replace
    return replace(p, questions=[replace(q, answer=q.answer or "?") for q in p.questions])


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _html_table(header: list[str], rows: list[list[object]], cls: str = "") -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_td(str(c)) for c in row) + "</tr>" for row in rows)
    return f'<table class="{e(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _compare_html(page: dict, f: dict, gold: Path | None) -> str:
    e = html.escape
    names = [r["name"] for r in page["runs"]]
    parts = [f"<h1>{e(names[0])} <small>vs</small> {e(names[1])}</h1>",
             f"<p>{f['n']} questions; the answers differ on {f['differ']}. Gold: "
             f"<code>{e(str(gold)) if gold else 'none (no correctness)'}</code></p>"]
    if f["mcnemar"] is None:
        return "\n".join(parts)
    m = f["mcnemar"]
    parts += [_html_table(["run", "predictions", "method", "accuracy", "95% CI", "correct"],
                          [[n, r["pred"], r["method"] or "-", _pct(acc["accuracy"]),
                            f"{acc['ci'][0]:.1%}–{acc['ci'][1]:.1%}", f"{acc['correct']}/{f['n']}"]
                           for n, r, acc in zip(names, page["runs"], f["accuracy"], strict=True)]),
              f"<p><strong>McNemar's exact test</strong> on the {m['only_a'] + m['only_b']} questions only one "
              f"run got right: {m['only_a']} only {e(names[0])}, {m['only_b']} only {e(names[1])}, "
              f"two-sided p = {m['p']:.3g}.</p>",
              "<h2>By family</h2>",
              _html_table(["family", "questions", names[0], names[1], "change", "only A", "only B"],
                          [[k, v["n"], _pct(v["a"] / v["n"]), _pct(v["b"] / v["n"]),
                            f"{(v['b'] - v['a']) / v['n'] * 100:+.1f} points", v["only_a"], v["only_b"]]
                           for k, v in f["families"].items()], "families"),
              "<h2>Flips</h2>"]
    for label, keys, value in ((f"right → wrong ({names[0]} right, {names[1]} wrong)", f["right_to_wrong"], "a"),
                               (f"wrong → right ({names[1]} right, {names[0]} wrong)", f["wrong_to_right"], "b")):
        links = " ".join(f'<a href="#" class="flip" data-key="{e(k)}">{e(k)}</a>' for k in keys) or "none"
        parts.append(f'<p><button type="button" class="flipset" data-value="{value}">{len(keys)} {e(label)}'
                     f"</button></p><p class=flips>{links}</p>")
    return "\n".join(parts)


# ---------------------------------------------------------------- the report of one run


_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)]+)\)")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


_NUMERIC = re.compile(r"[-+]?[\d.,]+(?:%| points)?|-|[\d.]+[–-][\d.]+%?|\d+/\d+")


def _td(text: str) -> str:
    return f'<td class="num">{_inline(text)}</td>' if _NUMERIC.fullmatch(text) else f"<td>{_inline(text)}</td>"


def _inline(text: str) -> str:
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def markdown_to_html(md: str, image_dir: Path | None = None) -> str:
    """The Markdown that ``report_md.report_markdown`` writes (headings, tables, bold, code, images) as HTML;
    images are inlined from ``image_dir`` as data URIs, so the page needs no other file."""
    out: list[str] = []
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            rows = []
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                rows.append(_cells(lines[j]))
                j += 1
            out.append("<table><thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in _cells(line))
                       + "</tr></thead><tbody>" + "".join("<tr>" + "".join(_td(c) for c in r)
                                                          + "</tr>" for r in rows) + "</tbody></table>")
            i = j
            continue
        heading = re.match(r"(#{1,3}) (.*)", line)
        image = _IMAGE.fullmatch(line.strip())
        if heading:
            n = len(heading.group(1))
            out.append(f"<h{n}>{_inline(heading.group(2))}</h{n}>")
        elif image and image_dir is not None and (image_dir / image.group(2)).is_file():
            b64 = base64.b64encode((image_dir / image.group(2)).read_bytes()).decode()
            out.append(f'<img alt="{html.escape(image.group(1))}" src="data:image/png;base64,{b64}">')
        elif image:
            out.append(f"<p>chart {html.escape(image.group(2))}: not found</p>")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
        i += 1
    return "\n".join(out)


def write_run_page(metrics: dict, out_dir: str | os.PathLike, markdown: str) -> Path:
    """``report.html`` in ``out_dir`` for the run ``metrics["files"]`` names, with ``markdown`` (report.md,
    its charts read from ``out_dir``) as its summary."""
    files = metrics["files"]
    run = load_run(files["pred"], files.get("details"))
    page = page_data([run], data.load_problems(files["gold"]), title=f"{run.name}: evaluation report")
    path = Path(out_dir) / "report.html"
    data.atomic_write_text(path, render(page, markdown_to_html(markdown, Path(out_dir))))
    return path


# ---------------------------------------------------------------- the page


def embed_json(obj: object) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` (so no ``</script>``
    and no ``<!--``), U+2028/9 escaped, lone surrogates (broken model text) as ``\\udXXX`` escapes."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def pack(obj: object) -> str:
    """The page's data block: ``embed_json`` gzipped and base64-encoded (a third of the bytes to read and
    tokenize; the page inflates it with the browser's own DecompressionStream). Base64 has no ``<``."""
    return base64.b64encode(gzip.compress(embed_json(obj).encode("utf-8"), 6, mtime=0)).decode("ascii")


def unpack(block: str) -> object:
    """The data back from a packed block."""
    return json.loads(gzip.decompress(base64.b64decode(block)))


_WORK = ("samples", "fallback_samples")


def split_page(page: dict) -> tuple[dict, list]:
    """The page's two blocks: the index (everything but the chains and programs: plain JSON, drawn at once)
    and the work (each question's samples per run: packed, inflated after the first rows are drawn)."""
    index = {**page, "questions": [{**q, "runs": [{k: v for k, v in r.items() if k not in _WORK} for r in q["runs"]]}
                                   for q in page["questions"]]}
    return index, [[{k: r[k] for k in _WORK} for r in q["runs"]] for q in page["questions"]]


def read_page(text: str) -> dict:
    """The ``page_data`` dict back from a written page (tests, tools)."""
    blocks = dict(re.findall(r'<script type="[^"]+" id="(data|work)">(.*?)</script>', text, re.DOTALL))
    index, work = json.loads(blocks["data"]), unpack(blocks["work"])
    for q, runs in zip(index["questions"], work, strict=True):
        for r, w in zip(q["runs"], runs, strict=True):
            r.update(w)
    return index


def _asset(name: str) -> str:
    return resources.files("logictune").joinpath("report_assets", name).read_text(encoding="utf-8")


def render(page: dict, summary_html: str) -> str:
    """The whole page: ``summary_html`` (trusted, already escaped) above the question table."""
    index, work = split_page(page)
    parts = {"TITLE": html.escape(page["title"]), "CSS": _asset("report.css"), "SUMMARY": summary_html,
             "DATA": embed_json(index), "WORK": pack(work), "JS": _asset("report.js")}
    return re.sub(r"\{\{(TITLE|CSS|SUMMARY|DATA|WORK|JS)\}\}", lambda m: parts[m.group(1)], _asset("page.html"))
