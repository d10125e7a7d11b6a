"""``report.md`` and its charts from ``evaluate.metrics``' dict; ``report.html`` beside them when the metrics
name their files (``report_html``). Nothing here scores: it lays out what evaluate computed."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

from . import data


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _save(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    data.atomic_write_text(path, buf.getvalue())


def _plots(m: dict, out_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    made = []
    letters = list(m["letters"])
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    xs = range(len(letters))
    ax.bar([x - 0.2 for x in xs], [m["letters"][c]["gold"] for c in letters], 0.4, label="gold")
    ax.bar([x + 0.2 for x in xs], [m["letters"][c]["pred"] for c in letters], 0.4, label="pred")
    ax.set_xticks(list(xs), letters)
    ax.set_ylabel("questions")
    ax.set_title("Answer letters: predicted vs gold")
    ax.legend()
    _save(fig, out_dir / "letters.png")
    made.append("letters.png")

    opts = m["by_options"]
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    bars = ax.bar([str(k) for k in opts], [v["accuracy"] for v in opts.values()])
    ax.bar_label(bars, [f"n={v['n']}" for v in opts.values()])
    ax.axhline(m["accuracy"], color="gray", linestyle="--", label=f"overall {m['accuracy']:.1%}")
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("number of options")
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy by number of options")
    ax.legend()
    _save(fig, out_dir / "by_options.png")
    made.append("by_options.png")

    if m["details"] is not None:
        bins = [b for b in m["details"]["calibration"]["bins"] if b["n"]]
        fig = Figure(figsize=(6, 3.5))
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1], color="gray", linestyle="--", label="perfect calibration")
        if bins:
            xs_ = [b["mean_agreement"] for b in bins]
            ys = [b["accuracy"] for b in bins]
            ax.plot(xs_, ys, marker="o", label="accuracy")
            for x, y, b in zip(xs_, ys, bins, strict=True):
                ax.annotate(f"n={b['n']}", (x, y), textcoords="offset points", xytext=(4, 6))
        ax.set_xlim(0, 1.08)
        ax.set_ylim(-0.05, 1.12)
        ax.set_xlabel("vote agreement (winner votes / answered samples)")
        ax.set_ylabel("accuracy")
        ax.set_title("Calibration of vote agreement")
        ax.legend(loc="upper left")
        _save(fig, out_dir / "calibration.png")
        made.append("calibration.png")
    prog = m["details"] and m["details"]["programs"]
    if prog:
        sources = {k: v for k, v in prog["by_source"].items() if v["n"]}
        fig = Figure(figsize=(6, 3.5))
        ax = fig.subplots()
        labels = {"vote": "programs voted", "cot": "fallback: chains", "direct": "fallback: letter scores"}
        bars = ax.bar([labels[k] for k in sources], [v["n"] for v in sources.values()])
        ax.bar_label(bars, [f"acc {_pct(v['accuracy'])}" for v in sources.values()])
        ax.set_ylabel("questions")
        ax.set_title("Where answers came from")
        _save(fig, out_dir / "answer_sources.png")
        made.append("answer_sources.png")
    return made


def report_markdown(m: dict, images: Sequence[str] = ()) -> str:
    """The report as Markdown; ``images`` are file names to embed."""
    b = m["baseline"]
    parts = [
        "# Evaluation report",
        "",
        f"**Accuracy: {m['accuracy']:.4f} ({m['correct']}/{m['n']})**",
        "",
        f"Baseline, always answering the most frequent gold letter {b['letter']}: "
        f"{b['accuracy']:.4f} ({b['correct']}/{m['n']})",
    ]
    if m.get("files"):
        parts += ["", _table(["file", "path"], [(k, f"`{v}`" if v else "-") for k, v in m["files"].items()])]
    parts += ["", "## By number of options", "",
              _table(["options", "n", "correct", "accuracy"],
                     [(k, v["n"], v["correct"], _pct(v["accuracy"])) for k, v in m["by_options"].items()]),
              "", "## By gold letter", "",
              _table(["gold letter", "n", "correct", "accuracy"],
                     [(k, v["n"], v["correct"], _pct(v["accuracy"]))
                      for k, v in m["by_gold_letter"].items()]),
              "", "## Letter distribution", "",
              _table(["letter", "gold", "gold share", "pred", "pred share"],
                     [(k, v["gold"], _pct(v["gold"] / m["n"]), v["pred"], _pct(v["pred"] / m["n"]))
                      for k, v in m["letters"].items()])]
    d = m["details"]
    if d is None:
        parts += ["", "## Details", "", "No details file: no voting, fallback or calibration figures."]
    else:
        parts += ["", "## Details", "",
                  _table(["what", "value"], [
                      ("questions with details", f"{d['rows']} of {m['n']}"),
                      ("details rows for unscored questions", d["unmatched"]),
                      ("details answer differs from submission", d["answer_mismatch"]),
                      ("methods", ", ".join(f"{k}: {v}" for k, v in d["methods"].items()) or "-"),
                      ("fallback rate", _pct(d["fallback_rate"])),
                      ("accuracy on fallback questions", _pct(d["fallback_accuracy"])),
                      ("answer-extraction failure rate", f"{_pct(d['extraction_failure_rate'])} "
                       f"({d['extraction_failures']}/{d['samples']} samples)"),
                      ("mean samples per question", _num(d["mean_samples"])),
                      ("mean tokens per question", _num(d["mean_tokens"])),
                  ]),
                  "", "## Calibration: vote agreement vs accuracy", "",
                  _table(["agreement", "n", "correct", "accuracy", "mean agreement"],
                         [(c["bin"], c["n"], c["correct"], _pct(c["accuracy"]), _num(c["mean_agreement"]))
                          for c in d["calibration"]["bins"]]
                         + [("no votes (fallback or direct)", d["calibration"]["unvoted"]["n"],
                             d["calibration"]["unvoted"]["correct"],
                             _pct(d["calibration"]["unvoted"]["accuracy"]), "-")])]
    prog = d and d["programs"]
    if prog:
        parts += ["", "## Programs", "", f"Coverage (questions a computed, matched program answered): "
                  f"{_pct(prog['coverage'])}", "",
                  _table(["answer from", "n", "correct", "accuracy"],
                         [(k, v["n"], v["correct"], _pct(v["accuracy"])) for k, v in prog["by_source"].items()]),
                  "", _table(["program status", "programs", "share", "matched an option", "matched the key"],
                             [(k, v["n"], _pct(v["share"]), v["matched"], _pct(v["matched_right"]))
                              for k, v in prog["by_sample_status"].items() if v["n"]]),
                  "", _table(["question status", "n", "correct", "accuracy"],
                             [(k, v["n"], v["correct"], _pct(v["accuracy"]))
                              for k, v in prog["by_question_status"].items()])]
    if images:
        parts += ["", "## Charts", ""] + [f"![{name}]({name})" for name in images]
    return "\n".join(parts) + "\n"


def write_report(metrics: dict, out_dir: str | os.PathLike) -> Path:
    """Write ``report.md`` and the PNG charts (calibration.png only with details) into ``out_dir``, and
    ``report.html`` (every question's work; ``report_html``) when ``metrics`` names its files."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images = _plots(metrics, out)
    path = out / "report.md"
    markdown = report_markdown(metrics, images)
    data.atomic_write_text(path, markdown)
    if metrics.get("files"):
        from .report_html import write_run_page

        write_run_page(metrics, out, markdown)
    return path
