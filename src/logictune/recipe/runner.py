"""Run a recipe: each step as ``python -m logictune ...`` in order, skipping those done, with markers."""

from __future__ import annotations

import fcntl
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..fingerprints import HashCache, fingerprint
from .load import Recipe, RecipeError, _close
from .plan import Decision, _duration, _log, _stamp, _upstream, _write_json, decide, resume_flags, run_record


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the step dies when the runner does (kill -9 included), so no orphan writes on."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _execute(argv: list[str]) -> int:
    cmd = [sys.executable, "-m", "logictune", *argv]
    proc = subprocess.Popen(cmd, preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
    try:
        return proc.wait()
    except KeyboardInterrupt:  # the step got the same Ctrl-C: let it stop cleanly
        try:
            return proc.wait(timeout=30)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            proc.kill()
            return proc.wait()


@dataclass
class RunResult:
    decisions: list[Decision]
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: str | None = None
    returncode: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _lock(state: Path):
    state.mkdir(parents=True, exist_ok=True)
    f = open(state / "lock", "w")  # noqa: SIM115 - held until the run ends
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise RecipeError(f"another run of this recipe holds {state / 'lock'}; wait for it to finish") from None
    return f


def run(recipe: Recipe, *, from_step: str | None = None, dry_run: bool = False, console=None,
        execute: Callable[[list[str]], int] = _execute) -> RunResult:
    """Run (or, ``dry_run``, only show) the recipe's steps in order, skipping those already done."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    names = [s.name for s in recipe.steps]
    if from_step is not None and from_step not in names:
        raise RecipeError(f"--from {from_step}: {recipe.path} has no such step{_close(from_step, names)}")
    start_at = names.index(from_step) if from_step else len(names)
    plain = {"highlight": False, "soft_wrap": True}
    console.rule(f"[bold]recipe {escape(str(recipe.path))}" + (" (dry run)" if dry_run else ""))
    if recipe.description:
        console.print(escape(recipe.description), **plain)
    lock = None if dry_run else _lock(recipe.state_dir)
    # the hashes of inputs and outputs, kept between runs (a dry run writes nothing, this neither)
    cache = HashCache(None if dry_run else recipe.state_dir / "hashes.json")
    result = RunResult([])
    upstream: str | None = ""
    try:
        for k, step in enumerate(recipe.steps, 1):
            d = decide(recipe, step, upstream, forced=k - 1 >= start_at, cache=cache)
            result.decisions.append(d)
            title = f"[{k}/{len(names)}] {step.name}"
            cmdline = "logictune " + shlex.join(step.argv + (resume_flags(step.argv, d.fresh)
                                                            if d.action == "run" else []))
            if d.action == "off":
                console.print(f"[dim]{escape(title)}: off ('when' is false)[/dim]", **plain)
                continue
            if d.action == "skip":
                console.print(f"[green]✓ {escape(title)}[/green]: skipped, {escape(d.reason)}", **plain)
                result.skipped.append(step.name)
                upstream = _upstream(upstream, step, d.outputs)
                continue
            if dry_run:
                console.print(f"[yellow]▶ {escape(title)}[/yellow]: would run ({escape(d.reason)})\n"
                              f"    [dim]{escape(cmdline)}[/dim]", **plain)
                result.ran.append(step.name)
                upstream = None  # what it would write is unknown: later steps can only be guessed
                continue
            upstream = _run_step(recipe, d, k - 1 >= start_at, title, cmdline, result, execute, console, cache)
            cache.save()
            if upstream is None:
                return result
    finally:
        cache.save()
        if lock is not None:
            lock.close()
    _summary(recipe, result, dry_run, console, Table)
    return result


def _run_step(recipe: Recipe, d: Decision, forced: bool, title: str, cmdline: str, result: RunResult,
              execute: Callable[[list[str]], int], console, cache: HashCache) -> str | None:
    """Run one step and mark it done; the fingerprint passed on to later steps, None if it failed."""
    from rich.markup import escape

    step, state, plain = d.step, recipe.state_dir, {"highlight": False, "soft_wrap": True}
    console.rule(f"[bold yellow]▶ {escape(title)}[/bold yellow] [dim]({escape(d.reason)})[/dim]")
    console.print(f"$ {escape(cmdline)}", style="bold", **plain)
    (state / f"{step.name}.done").unlink(missing_ok=True)
    key = d.key
    _write_json(state / f"{step.name}.started", {"argv": step.argv, "upstream": d.upstream, "key": key,
                                                  "inputs": d.inputs, "fresh": d.fresh, "record": _stamp(run_record(step.argv)),
                                                  "started": time.time(), "pid": os.getpid()})
    _log(state, "start", step.name, argv=step.argv, fresh=d.fresh, forced=forced)
    t0 = time.time()
    code = execute(step.argv + resume_flags(step.argv, d.fresh))
    seconds = time.time() - t0
    outputs = {o: fingerprint(o, cache) for o in step.outputs} if code == 0 else {}
    missing = [o for o, v in outputs.items() if v is None]
    if code != 0 or missing:
        why = f"exit status {code}" if code else f"it exited 0 but did not write {', '.join(missing)}"
        _log(state, "fail", step.name, code=code, missing=missing, seconds=seconds)
        console.print(f"[red]✗ {escape(title)} failed after {_duration(seconds)}: {escape(why)}[/red]\n"
                      f"  {escape(str(recipe.path))}: step '{escape(step.name)}'; rerun the same command to go on "
                      "(finished steps are kept)", **plain)
        result.failed, result.returncode = step.name, code or 1
        return None
    _write_json(state / f"{step.name}.done", {"argv": step.argv, "upstream": d.upstream, "key": key,
                                               "inputs": d.inputs, "outputs": outputs, "seconds": seconds, "finished": time.time()})
    _log(state, "done", step.name, seconds=seconds)
    console.print(f"[green]✓ {escape(title)}[/green] done in {_duration(seconds)}", **plain)
    result.ran.append(step.name)
    result.seconds[step.name] = seconds
    return _upstream(d.upstream, step, outputs)


def _summary(recipe: Recipe, result: RunResult, dry_run: bool, console, table_cls) -> None:
    from rich.markup import escape

    table = table_cls(title="plan" if dry_run else "recipe done")
    for col in ("step", "command", "status", "why / time"):
        table.add_column(col)
    for d in result.decisions:
        status = {"skip": "skip", "off": "off"}.get(d.action, "would run" if dry_run else "ran")
        detail = d.reason if d.action != "run" or dry_run else _duration(result.seconds.get(d.step.name, 0))
        table.add_row(d.step.name, " ".join(d.step.argv[:2] if d.step.argv[0] == "data" else d.step.argv[:1]),
                      status, detail)
    console.print(table)
    for name, path in recipe.results.items():
        there = "" if Path(path).exists() else " [dim](not written yet)[/dim]"
        console.print(f"{escape(name)}: {escape(path)}{there}", highlight=False, soft_wrap=True)
