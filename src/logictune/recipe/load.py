"""Load a recipe: YAML (with ``extends`` and ``--set`` overrides) -> a :class:`Recipe` of resolved steps."""

from __future__ import annotations

import difflib
import os
import re
import shlex
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TOP_KEYS = ("description", "extends", "vars", "state_dir", "steps", "results")
STEP_KEYS = ("name", "description", "argv", "command", "args", "outputs", "when")
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
