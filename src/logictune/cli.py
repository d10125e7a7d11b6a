"""The `logictune` command line: one thin function per command over the Python API."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Make small LLMs good at multiple-choice logic reasoning.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
data_app = typer.Typer(help="Load, validate, describe and split datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console()


def fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    raise typer.Exit(1)


# ---------------------------------------------------------------- data


def _description_table(title: str, desc: dict) -> Table:
    table = Table(title=title, show_header=True)
    table.add_column("what")
    table.add_column("value")
    for key, value in desc.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
        table.add_row(key.replace("_", " "), str(value))
    return table


@data_app.command("check")
def data_check(file: Path, lenient: bool = typer.Option(False, help="Skip bad records instead of failing.")):
    """Validate FILE and describe what it holds."""
    from . import data

    report = data.load_report(file)
    for err in report.errors:
        console.print(f"[red]{err}[/red]", highlight=False)
    if report.errors and not lenient:
        fail(f"{len(report.errors)} bad record(s) in {file}; fix them or pass --lenient to skip them")
    if report.errors:
        console.print(f"[yellow]skipped {len(report.errors)} bad record(s)[/yellow]")
    console.print(_description_table(str(file), data.describe(report.problems)))


@data_app.command("split")
def data_split(
    file: Path,
    out_dir: Path = typer.Option(..., help="Writes OUT_DIR/train.jsonl and OUT_DIR/val.jsonl."),
    val_fraction: float = typer.Option(0.2, help="Share of questions for validation."),
    seed: int = typer.Option(0),
    lenient: bool = typer.Option(False, help="Skip bad records instead of failing."),
):
    """Split FILE by problem into train and validation; repeated problems stay on one side."""
    from . import data

    try:
        problems = data.load_problems(file, lenient=lenient)
        train, val = data.split(problems, val_fraction, seed)
    except ValueError as e:
        fail(str(e))
    for name, part in (("train", train), ("val", val)):
        data.write_problems(part, out_dir / f"{name}.jsonl")
        console.print(f"{out_dir / f'{name}.jsonl'}: {len(part)} problems, "
                      f"{sum(len(p.questions) for p in part)} questions")


# ---------------------------------------------------------------- evaluate


@app.command("evaluate")
def evaluate(
    pred: Path = typer.Option(..., help="The submission to score; every question answered."),
    gold: Path = typer.Option(..., help="The same problems with the right answers."),
    details: Path | None = typer.Option(None, help="Details file; default: PRED's .details.jsonl if any."),
    report: Path | None = typer.Option(None, help="Write report.md and PNG charts into this folder."),
):
    """Score PRED against GOLD: accuracy, slices and, with a details file, voting and calibration."""
    from rich.markup import escape

    from . import evaluate as ev

    try:
        m = ev.evaluate(pred, gold, details)
    except (ValueError, OSError) as e:
        fail(escape(str(e)))
    plain = {"highlight": False, "markup": False, "soft_wrap": True}
    console.print(f"accuracy: {m['accuracy']:.4f} ({m['correct']}/{m['n']})", **plain)
    table = Table(show_header=True)
    for col in ("slice", "n", "accuracy"):
        table.add_column(col)
    b = m["baseline"]
    table.add_row(f"baseline: always {b['letter']}", str(m["n"]), f"{b['accuracy']:.4f}")
    for key, title in (("by_options", "options = "), ("by_gold_letter", "gold = ")):
        for k, v in m[key].items():
            table.add_row(f"{title}{k}", str(v["n"]), f"{v['accuracy']:.4f}")
    d = m["details"]
    if d is not None and d["fallbacks"]:
        table.add_row("fallback to option likelihoods", str(d["fallbacks"]), f"{d['fallback_accuracy']:.4f}")
    console.print(table)
    if d is not None and d["rows"]:
        console.print(f"details: {m['files']['details']}: {d['rows']}/{m['n']} questions, "
                      f"fallback rate {d['fallback_rate']:.4f}, "
                      f"extraction failures {d['extraction_failures']}/{d['samples']} samples, "
                      f"{d['mean_tokens']:.1f} tokens/question", **plain)
    elif d is not None:
        console.print(f"[yellow]details: {escape(m['files']['details'])} has no row for these questions")
    if report is not None:
        console.print(f"report: {ev.write_report(m, report)}", **plain)


def main() -> None:
    app()
