"""Plan a recipe run: what each step reads, its markers, and whether it runs, is skipped, or starts over."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..fingerprints import HashCache, fingerprint, registry_identity
from .load import Recipe, Step

RESTARTABLE = ("train", "predict", "distill")  # commands that take --overwrite to start a run over
# Options whose value a command writes rather than reads: never an input of the step that names them.
WRITES = ("--out", "--out-dir", "--output-dir", "--report")
# train and distill read --rationales; distill's --cache is its own reply cache, written as it runs
WRITES_BY_COMMAND = {"synth": ("--rationales", "--programs"), "distill": ("--cache",)}


# ================================================================ markers


def _key(argv: list[str], upstream: str, inputs: dict | None) -> str:
    return hashlib.sha256(json.dumps([argv, upstream, inputs], sort_keys=True).encode()).hexdigest()


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json(path: Path, obj: dict) -> None:
    from ..data import atomic_write_text

    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def _log(state: Path, event: str, step: str, **info: Any) -> None:
    with open(state / "log.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"time": time.time(), "event": event, "step": step, **info}) + "\n")


# ================================================================ what a step reads


def _overlaps(path: Path, others: list[Path]) -> bool:
    return any(path == o or path in o.parents or o in path.parents for o in others)


def step_inputs(step: Step, state_dir: Path, cache: HashCache) -> dict[str, str | None]:
    """What ``step`` reads, each with its content fingerprint: logictune's version, every registry model,
    file and folder its arguments name, and those that a YAML file among them (a train config) names.

    The step's own outputs, the values of options it writes (``--out`` ...) and folders holding either are
    left out: what a step writes must not make its next run look stale. Hashes come from ``cache``.
    """
    writes = WRITES + WRITES_BY_COMMAND.get(step.argv[0], ())
    written = [Path(o).resolve() for o in step.outputs] + [state_dir.resolve()]
    cwd = Path.cwd().resolve()
    found: dict[str, str | None] = {"logictune": __version__}
    values = []
    for k, token in enumerate(step.argv[1:], 1):
        option, eq, value = token.partition("=")
        if token.startswith("-"):
            if eq and option not in writes:
                values.append(value)
        elif step.argv[k - 1] not in writes:
            values.append(token)
    seen: set[Path] = set()

    def add(value: str) -> None:
        value = value.removeprefix("local:")  # distill's --teacher local:MODEL
        if (identity := registry_identity(value)) is not None:
            found[f"model {value}"] = identity
            return
        path = Path(value)
        if not value or not path.exists():
            return
        where = path.resolve()
        # never the working folder or those above it (the repo, home), nor what the step writes or holds it
        if where in seen or where == cwd or where in cwd.parents or _overlaps(where, written):
            return
        seen.add(where)
        found[f"file {value}"] = fingerprint(path, cache)
        if path.suffix in (".yaml", ".yml") and path.is_file():
            try:
                named = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError:
                return
            for text in _strings(named):
                add(text)

    for value in values:
        add(value)
    return found


def _strings(node: Any, key: str = "") -> list[str]:
    """The string values in a parsed YAML document, leaving out those under keys that name outputs."""
    if key.startswith("out"):
        return []
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(v, str(k))]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v, key)]
    return [node] if isinstance(node, str) else []


def _inputs_changed(old: dict | None, new: dict) -> str:
    if old is None:
        return "what it reads was not recorded (a marker from an older logictune)"
    if old.get("logictune") != new["logictune"]:
        return f"logictune {old.get('logictune')} -> {new['logictune']}"
    for name in sorted(set(old) | set(new)):
        if name not in new:
            return f"no longer reads {name.split(' ', 1)[1]}"
        if old.get(name) != new[name]:
            what, _, path = name.partition(" ")
            return f"{what} changed: {path}" if name in old else f"reads a new {what}: {path}"
    return "inputs changed"


# ================================================================ run or skip


@dataclass
class Decision:
    step: Step
    action: str  # run, skip, off
    reason: str
    upstream: str | None = None  # None: not known before the earlier steps have run (dry run)
    fresh: bool = False  # start over (--overwrite) rather than continue an interrupted run
    outputs: dict[str, str | None] | None = None  # the step's outputs' fingerprints when skipped
    inputs: dict[str, str | None] | None = None  # what it reads (step_inputs), when upstream is known
    key: str | None = None  # argv, upstream and inputs in one hash: the run this step is


def decide(recipe: Recipe, step: Step, upstream: str | None, forced: bool,
           cache: HashCache | None = None) -> Decision:
    """Run or skip ``step`` given the fingerprint of what earlier steps produced (None: unknown yet)."""
    if not step.enabled:
        return Decision(step, "off", "off ('when' is false)")
    state, cache = recipe.state_dir, cache or HashCache()
    done, started = _read_json(state / f"{step.name}.done"), _read_json(state / f"{step.name}.started")
    inputs = step_inputs(step, state, cache) if upstream is not None else None
    key = _key(step.argv, upstream, inputs) if upstream is not None else None
    # Start over when this recipe began the step with other settings or inputs, or began it over and was
    # killed before the step replaced its old run; continue when it began it with these (a kill); leave a
    # folder made outside the recipe to the command's own checks.
    pending = started is not None and started.get("key") == key and _restart_pending(started, step.argv)
    fresh = forced or pending or (started is not None and started.get("key") != key)
    decision = Decision(step, "run", "", upstream, fresh, inputs=inputs, key=key)
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
    elif done.get("inputs") != inputs:
        decision.reason = _inputs_changed(done.get("inputs"), inputs)
    else:
        now = {o: fingerprint(o, cache) for o in step.outputs}
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


# ================================================================ start over or continue


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
