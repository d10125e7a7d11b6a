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


def main() -> None:
    app()
