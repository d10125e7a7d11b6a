"""`logictune data` (check, split, families) and `logictune models` (fetch, list)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ._app import app, console, fail, say_error

data_app = typer.Typer(help="Load, validate, describe and split datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")


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


def _load_report(file: Path):
    from .. import data

    try:
        return data.load_report(file)
    except (OSError, UnicodeDecodeError) as e:
        fail(f"cannot read {file}: {e}")


def _load_valid(file: Path, lenient: bool):
    """Load FILE, listing every bad record; fail unless ``lenient``, which skips them, or when none is left."""
    from .. import data

    report = _load_report(file)
    for err in report.errors:
        say_error(str(err))
    if report.errors and not lenient:
        fail(f"{len(report.errors)} bad record(s) in {file}; fix them or pass --lenient to skip them")
    if report.errors:
        console.print(f"[yellow]skipped {len(report.errors)} bad record(s)[/yellow]")
    try:
        data.require_problems(report)
    except ValueError as e:
        fail(str(e))
    return report


@data_app.command("check")
def data_check(file: Path, lenient: bool = typer.Option(False, help="Skip bad records instead of failing.")):
    """Validate FILE and describe what it holds."""
    from .. import data

    report = _load_valid(file, lenient)
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
    from .. import data

    report = _load_valid(file, lenient)
    try:
        train, val = data.split(report.problems, val_fraction, seed)
    except ValueError as e:
        fail(str(e))
    empty = [name for name, part in (("train", train), ("val", val)) if not part]
    if empty:  # every command refuses an empty data file: do not write one
        fail(f"{file}: {len(report.problems)} problem(s) (repeats stay together) leave the {' and '.join(empty)} "
             f"side empty at --val-fraction {val_fraction}; nothing written")
    for name, part in (("train", train), ("val", val)):
        data.write_problems(part, out_dir / f"{name}.jsonl")
        console.print(f"{out_dir / f'{name}.jsonl'}: {len(part)} problems, "
                      f"{sum(len(p.questions) for p in part)} questions", highlight=False, soft_wrap=True)


@data_app.command("families")
def data_families(
    file: Path,
    out: Path | None = typer.Option(None, help="Also write one {\"id\", \"family\"} line per problem here."),
    lenient: bool = typer.Option(False, help="Skip bad records instead of failing."),
):
    """Tag every problem of FILE with its puzzle family and count problems and questions per family."""
    from .. import data
    from ..synth import census

    result = census.census(_load_valid(file, lenient).problems)
    console.print(census.census_table(result, title=str(file)))
    if out is not None:
        data.write_jsonl(out, result["tags"])
        console.print(f"families: {out}", highlight=False, soft_wrap=True)


# ---------------------------------------------------------------- models

models_app = typer.Typer(help="Fetch and list models.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("fetch")
def models_fetch(name: str = typer.Argument("qwen2.5-coder-0.5b", help="A registry name."),
                 force: bool = typer.Option(False, help="Download and convert again.")):
    """Download a registry model once (checked by size and sha256), convert it to safetensors, print its path."""
    from .. import models

    try:
        path = models.fetch(name, force=force)
    except models.ModelNotFound as e:
        fail(str(e))
    print(path)


@models_app.command("list")
def models_list():
    """Show the registry and what is cached under $LOGICTUNE_HOME."""
    from .. import models

    table = Table(title=f"models in {models.logictune_home()}")
    for col in ("name", "kind", "ready", "size", "path"):
        table.add_column(col)
    cached = {row["name"]: row for row in models.cached_models()}
    for name in models.REGISTRY:
        cached.setdefault(name, {"name": name, "kind": "registry", "ready": False, "path": "-", "bytes": 0})
    for row in cached.values():
        table.add_row(row["name"], row["kind"], "yes" if row["ready"] else "no (fetched on first use)",
                      f"{row['bytes'] / 2**30:.2f} GiB" if row["bytes"] else "-", row["path"])
    console.print(table)
