"""Recipes: the whole loop as one YAML file of logictune commands, run in order and resumable.

    logictune recipe configs/recipes/cpu-0.5b.yaml [--dry-run] [--from STEP] [--set name=value ...]

A recipe names its choices as variables and lists its steps; each step is one logictune CLI call::

    description: what this recipe makes
    extends: other.yaml            # optional: take its vars, steps and results; vars here override
    vars:
      work: runs/recipe
      lr: 2.0e-4
      split: "{work}/split"        # variables may use other variables
    state_dir: "{work}/.recipe"    # optional (the default): completion markers and the run log
    steps:
      - name: split
        argv: [data, split, "{train_data}", --out-dir, "{split}"]          # an argv list ...
        outputs: ["{split}/train.jsonl", "{split}/val.jsonl"]
      - name: stage1
        command: train             # ... or a command (shlex-split, may hold positionals) plus args
        args: {config: "{train_config}", lr: "{lr}", set: [report_to=none], resume: null}
        outputs: ["{work}/stage1"]
        when: "{validate}"         # optional: the step is off when this is false/no/0/empty
    results: {adapter: "{work}/stage2"}   # printed at the end

``args`` become ``--key value`` (underscores turn into dashes); ``true`` gives ``--key``, ``false``
``--no-key``, ``null`` nothing, a list repeats the option. ``{{`` and ``}}`` are literal braces.

Each step runs as ``python -m logictune ...`` in the current directory, its output streamed as it comes.
Before it starts, ``STATE_DIR/STEP.started`` records its resolved argv and the fingerprints of what the
earlier steps produced; after it succeeds, ``STATE_DIR/STEP.done`` adds the fingerprints (sha256) of its
``outputs``, written atomically. A rerun skips a step whose marker matches its argv, its inputs (the
earlier steps' outputs) and its outputs as they are now; so changing a variable reruns the steps that
use it and every step whose inputs then change. A killed step runs again and continues where it
stopped: train gets ``--resume`` when its output directory holds a run, predict and distill resume
their files by themselves. A step rerun because its settings or inputs changed starts over
(``--overwrite`` for train, predict and distill), and keeps starting over after a kill until the step has
replaced its old run (its run record, train's ``config.yaml`` or ``OUT.run.json``, changed since launch).
"""

from __future__ import annotations

import difflib
import fcntl
import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TOP_KEYS = ("description", "extends", "vars", "state_dir", "steps", "results")
STEP_KEYS = ("name", "description", "argv", "command", "args", "outputs", "when")
RESTARTABLE = ("train", "predict", "distill")  # commands that take --overwrite to start a run over
FALSY = ("", "false", "no", "off", "0", "none", "null")
_REF = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class RecipeError(ValueError):
    """A recipe that cannot run: bad YAML, unknown keys or variables, a step that failed."""


@dataclass
class Step:
    name: str
    argv: list[str]  # logictune's arguments, variables substituted: ["train", "--config", ...]
    outputs: list[str]
    enabled: bool = True
    description: str = ""


@dataclass
class Recipe:
    path: Path
    vars: dict[str, Any]
    steps: list[Step]
    state_dir: Path
    results: dict[str, str] = field(default_factory=dict)
    description: str = ""


# ================================================================ 1. load: YAML -> Recipe


def _close(word: str, known: Sequence[str]) -> str:
    hit = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean '{hit[0]}'?" if hit else f" (known: {', '.join(known)})"


def _read_yaml(path: Path) -> dict:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecipeError(f"recipe file {path} not found") from None
    except yaml.YAMLError as e:
        raise RecipeError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise RecipeError(f"{path}: a recipe is a mapping with keys {', '.join(TOP_KEYS)}")
    for key in raw:
        if key not in TOP_KEYS:
            raise RecipeError(f"{path}: unknown key '{key}'{_close(str(key), TOP_KEYS)}")
    return raw


def _merged(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """The recipe at ``path`` with its ``extends`` chain folded in; each part remembers the file it came from."""
    path = Path(path)
    if path.resolve() in seen:
        raise RecipeError(f"{path}: 'extends' loops back to itself")
    raw = _read_yaml(path)
    vars_ = raw.get("vars") or {}
    if not isinstance(vars_, dict):
        raise RecipeError(f"{path}: 'vars' must be a mapping of name: value")
    for name in vars_:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise RecipeError(f"{path}: variable name {name!r} must be a word (letters, digits, _)")
    own = {"vars": dict(vars_), "steps": raw.get("steps"), "steps_from": path, "state_dir": raw.get("state_dir"),
           "results": raw.get("results") or {}, "description": raw.get("description") or ""}
    if not raw.get("extends"):
        return own
    base = _merged(path.parent / str(raw["extends"]), (*seen, path.resolve()))
    return {"vars": {**base["vars"], **own["vars"]},
            "steps": own["steps"] if own["steps"] is not None else base["steps"],
            "steps_from": path if own["steps"] is not None else base["steps_from"],
            "state_dir": own["state_dir"] or base["state_dir"],
            "results": {**base["results"], **own["results"]},
            "description": own["description"] or base["description"]}


def _parse_set(items: Sequence[str], known: dict, path: Path) -> dict:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise RecipeError(f"--set expects name=value, got {item!r}")
        if name not in known:
            raise RecipeError(f"--set {item}: {path} has no variable '{name}'{_close(name, sorted(known))}")
        out[name] = yaml.safe_load(value) if value.strip() else ""
    return out


class _Resolver:
    """Variables substituted into strings; a value that is exactly ``{name}`` keeps the variable's type."""

    def __init__(self, raw: dict, path: Path):
        self.raw, self.path, self.done, self.active = raw, path, {}, []

    def var(self, name: str, where: str) -> Any:
        if name in self.done:
            return self.done[name]
        if name not in self.raw:
            raise RecipeError(f"{where}: unknown variable {{{name}}}{_close(name, sorted(self.raw))}")
        if name in self.active:
            raise RecipeError(f"{self.path}: variables refer to each other in a loop: "
                              f"{' -> '.join([*self.active, name])}")
        self.active.append(name)
        value = self.raw[name]
        self.done[name] = self.value(value, f"{self.path}: variable '{name}'") if isinstance(value, str) else value
        self.active.pop()
        return self.done[name]

    def value(self, text: Any, where: str) -> Any:
        if not isinstance(text, str):
            return text
        whole = re.fullmatch(r"\{([^{}]*)\}", text)
        if whole and _NAME.fullmatch(whole.group(1)):
            return self.var(whole.group(1), where)

        def sub(m: re.Match) -> str:
            if m.group(0) in ("{{", "}}"):
                return m.group(0)[0]
            name = m.group(1).strip()
            if not _NAME.fullmatch(name):
                raise RecipeError(f"{where}: '{{{m.group(1)}}}' is not a variable reference "
                                  "(write {{ and }} for literal braces)")
            return _text(self.var(name, where))

        return _REF.sub(sub, text)

    def text(self, value: Any, where: str) -> str:
        return _text(self.value(value, where))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _truthy(value: Any) -> bool:
    return bool(value) if not isinstance(value, str) else value.strip().lower() not in FALSY


def _args_argv(args: dict, res: _Resolver, where: str) -> list[str]:
    out: list[str] = []
    for key, value in args.items():
        flag = key if str(key).startswith("-") else "--" + str(key).replace("_", "-")
        value = res.value(value, where)
        if value is None:
            continue
        if isinstance(value, bool):
            out.append(flag if value else "--no-" + flag.removeprefix("--"))
        elif isinstance(value, list):  # an item that is a list variable adds its items
            for item in value:
                item = res.value(item, where)
                out += [x for v in (item if isinstance(item, list) else [item]) for x in (flag, _text(v))]
        else:
            out += [flag, _text(value)]
    return out


def _step(raw: Any, k: int, res: _Resolver, path: Path, names: set[str],
          commands: Collection[str] | None) -> Step:
    if not isinstance(raw, dict):
        raise RecipeError(f"{path}: step {k + 1} must be a mapping with name, argv (or command + args), outputs")
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise RecipeError(f"{path}: step {k + 1} needs a 'name' of letters, digits, '-', '_' or '.', got {name!r}")
    where = f"{path}: step '{name}'"
    if name in names:
        raise RecipeError(f"{where}: another step has this name")
    for key in raw:
        if key not in STEP_KEYS:
            raise RecipeError(f"{where}: unknown key '{key}'{_close(str(key), STEP_KEYS)}")
    if ("argv" in raw) == ("command" in raw):
        raise RecipeError(f"{where}: give either 'argv' (a list) or 'command' (with optional 'args')")
    if "argv" in raw:
        if not isinstance(raw["argv"], list) or not raw["argv"] or "args" in raw:
            raise RecipeError(f"{where}: 'argv' must be a non-empty list of arguments (and no 'args' with it)")
        argv = [res.text(a, where) for a in raw["argv"]]
    else:
        argv = [res.text(a, where) for a in shlex.split(str(raw["command"]))]
        args = raw.get("args") or {}
        if not isinstance(args, dict):
            raise RecipeError(f"{where}: 'args' must be a mapping of option: value")
        argv += _args_argv(args, res, where)
    if not argv or (commands is not None and argv[0] not in commands):
        raise RecipeError(f"{where}: '{argv[0] if argv else ''}' is not a logictune command"
                          f"{_close(argv[0] if argv else '', sorted(commands or ()))}")
    outputs = raw.get("outputs")
    if not isinstance(outputs, list) or not outputs:
        raise RecipeError(f"{where}: 'outputs' must list the files or folders the step writes (how a rerun "
                          "knows it is done)")
    enabled = _truthy(res.value(raw["when"], where)) if "when" in raw else True
    return Step(name, argv, [res.text(o, where) for o in outputs], enabled, str(raw.get("description") or ""))


def load(path: str | os.PathLike, overrides: Sequence[str] = (), *,
         commands: Collection[str] | None = None) -> Recipe:
    """Read a recipe, fold in ``extends``, apply ``--set name=value`` overrides and resolve every step.

    ``commands``: the command names a step may start with (the CLI passes its own); None checks none. The
    runner only ever starts steps as ``python -m logictune``, so it does not import the command line.
    """
    path = Path(path)
    merged = _merged(path)
    variables = {**merged["vars"], **_parse_set(overrides, merged["vars"], path)}
    res = _Resolver(variables, path)
    for name in variables:
        res.var(name, f"{path}: variable '{name}'")
    steps_from = merged["steps_from"]
    raw_steps = merged["steps"]
    if not isinstance(raw_steps, list) or not raw_steps:
        raise RecipeError(f"{steps_from}: 'steps' must be a non-empty list")
    res.path = steps_from
    steps: list[Step] = []
    for k, raw in enumerate(raw_steps):
        steps.append(_step(raw, k, res, steps_from, {s.name for s in steps}, commands))
    state = merged["state_dir"] or ("{work}/.recipe" if "work" in variables else None)
    if state is None:
        raise RecipeError(f"{path}: set 'state_dir' (where completion markers go) or a variable 'work'")
    results = {str(k): res.text(v, f"{path}: results '{k}'") for k, v in merged["results"].items()
               if v is not None}
    return Recipe(path, dict(res.done), steps, Path(res.text(state, f"{path}: state_dir")), results,
                  str(merged["description"]).strip())


# ================================================================ 2. markers and fingerprints


def fingerprint(path: str | os.PathLike) -> str | None:
    """sha256 of a file, or of every file under a folder (relative names included); None if missing."""
    p = Path(path)
    if p.is_file():
        from .models import sha256_file

        return sha256_file(p)
    if not p.is_dir():
        return None
    from .models import sha256_file

    digest = hashlib.sha256()
    for f in sorted(x for x in p.rglob("*") if x.is_file()):
        digest.update(f"{f.relative_to(p).as_posix()}\0{sha256_file(f)}\n".encode())
    return digest.hexdigest()


def _key(argv: list[str], upstream: str) -> str:
    return hashlib.sha256(json.dumps([argv, upstream]).encode()).hexdigest()


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json(path: Path, obj: dict) -> None:
    from .data import atomic_write_text

    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def _log(state: Path, event: str, step: str, **info: Any) -> None:
    with open(state / "log.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"time": time.time(), "event": event, "step": step, **info}) + "\n")


# ================================================================ 3. plan: run or skip


@dataclass
class Decision:
    step: Step
    action: str  # run, skip, off
    reason: str
    upstream: str | None = None  # None: not known before the earlier steps have run (dry run)
    fresh: bool = False  # start over (--overwrite) rather than continue an interrupted run
    outputs: dict[str, str | None] | None = None  # the step's outputs' fingerprints when skipped


def decide(recipe: Recipe, step: Step, upstream: str | None, forced: bool) -> Decision:
    """Run or skip ``step`` given the fingerprint of what earlier steps produced (None: unknown yet)."""
    if not step.enabled:
        return Decision(step, "off", "off ('when' is false)")
    state = recipe.state_dir
    done, started = _read_json(state / f"{step.name}.done"), _read_json(state / f"{step.name}.started")
    key = _key(step.argv, upstream) if upstream is not None else None
    # Start over when this recipe began the step with other settings or inputs, or began it over and was
    # killed before the step replaced its old run; continue when it began it with these (a kill); leave a
    # folder made outside the recipe to the command's own checks.
    pending = started is not None and started.get("key") == key and _restart_pending(started, step.argv)
    fresh = forced or pending or (started is not None and started.get("key") != key)
    decision = Decision(step, "run", "", upstream, fresh)
    if forced:
        decision.reason = "--from"
    elif upstream is None:
        decision.reason = "an earlier step runs first"
    elif done is None:
        decision.reason = ("interrupted before it started over: starts over" if pending else
                           "interrupted: continues" if started and not fresh else "not run yet")
    elif done.get("argv") != step.argv:
        old, new = done.get("argv") or [], step.argv
        changed = [b for b in new if b not in old] or [a for a in old if a not in new]
        decision.reason = "arguments changed: " + " ".join(changed[:6])
    elif done.get("upstream") != upstream:
        decision.reason = "inputs changed (an earlier step's outputs)"
    else:
        now = {o: fingerprint(o) for o in step.outputs}
        if now != done.get("outputs"):
            missing = [o for o, v in now.items() if v is None]
            decision.reason = f"output missing: {missing[0]}" if missing else "outputs changed since it finished"
        else:
            return Decision(step, "skip", f"done {time.strftime('%Y-%m-%d %H:%M', time.localtime(done['finished']))}"
                                          f" in {_duration(done.get('seconds', 0))}", upstream, outputs=now)
    return decision


def _upstream(prev: str, step: Step, outputs: dict) -> str:
    return hashlib.sha256(json.dumps([prev, step.name, outputs], sort_keys=True).encode()).hexdigest()


def _duration(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}m{s:02d}s" if m else f"{seconds:.1f}s"


# ================================================================ 4. run


def _option(argv: list[str], name: str) -> str | None:
    for k, a in enumerate(argv):
        if a == name and k + 1 < len(argv):
            return argv[k + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def _train_dir(argv: list[str]) -> Path:
    out = _option(argv, "--output-dir")
    config = _option(argv, "--config") or _option(argv, "-c")
    if out is None and config and Path(config).is_file():
        out = (yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}).get("output_dir")
    return Path(out or "runs/train")


def run_record(argv: list[str]) -> Path | None:
    """The file a restartable step rewrites once it has replaced its old run with a new one: train's
    ``config.yaml``, predict's and distill's ``OUT.run.json``."""
    if argv[0] == "train":
        return _train_dir(argv) / "config.yaml"
    out = _option(argv, "--out") if argv[0] in RESTARTABLE else None
    return Path(out).with_suffix(".run.json") if out else None


def _stamp(path: Path | None) -> list[int] | None:
    """Which version of a file is there (inode, size, mtime), without reading it; None when it is not."""
    try:
        st = path.stat() if path else None
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns] if st else None


def _restart_pending(started: dict, argv: list[str]) -> bool:
    """Whether a step launched to start over was killed before it replaced its old run (train loads data
    and model first): its run record is as it was at launch, or gone. Continuing then would resume the
    old run under the new settings, which the step refuses on every attempt."""
    if not started.get("fresh") or argv[0] not in RESTARTABLE:
        return False
    now = _stamp(run_record(argv))
    return now is None or now == started.get("record")


def resume_flags(argv: list[str], fresh: bool) -> list[str]:
    """What to add to a step's argv so it starts over (``fresh``) or continues its interrupted run."""
    if "--resume" in argv or "--overwrite" in argv:
        return []
    if fresh:
        return ["--overwrite"] if argv[0] in RESTARTABLE else []
    if argv[0] == "train" and (_train_dir(argv) / "config.yaml").exists():
        return ["--resume"]
    return []  # predict and distill continue their files by themselves


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
    result = RunResult([])
    upstream: str | None = ""
    try:
        for k, step in enumerate(recipe.steps, 1):
            d = decide(recipe, step, upstream, forced=k - 1 >= start_at)
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
            upstream = _run_step(recipe, d, k - 1 >= start_at, title, cmdline, result, execute, console)
            if upstream is None:
                return result
    finally:
        if lock is not None:
            lock.close()
    _summary(recipe, result, dry_run, console, Table)
    return result


def _run_step(recipe: Recipe, d: Decision, forced: bool, title: str, cmdline: str, result: RunResult,
              execute: Callable[[list[str]], int], console) -> str | None:
    """Run one step and mark it done; the fingerprint passed on to later steps, None if it failed."""
    from rich.markup import escape

    step, state, plain = d.step, recipe.state_dir, {"highlight": False, "soft_wrap": True}
    console.rule(f"[bold yellow]▶ {escape(title)}[/bold yellow] [dim]({escape(d.reason)})[/dim]")
    console.print(f"$ {escape(cmdline)}", style="bold", **plain)
    (state / f"{step.name}.done").unlink(missing_ok=True)
    key = _key(step.argv, d.upstream)
    _write_json(state / f"{step.name}.started", {"argv": step.argv, "upstream": d.upstream, "key": key,
                                                  "fresh": d.fresh, "record": _stamp(run_record(step.argv)),
                                                  "started": time.time(), "pid": os.getpid()})
    _log(state, "start", step.name, argv=step.argv, fresh=d.fresh, forced=forced)
    t0 = time.time()
    code = execute(step.argv + resume_flags(step.argv, d.fresh))
    seconds = time.time() - t0
    outputs = {o: fingerprint(o) for o in step.outputs} if code == 0 else {}
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
                                               "outputs": outputs, "seconds": seconds, "finished": time.time()})
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
