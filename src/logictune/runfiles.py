"""A long job's files: the record of the settings that made an output, its lock, and reading back what a
killed run wrote. predict and distill share them, so both refuse the same things."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Sequence
from pathlib import Path

from . import data


def run_path(out: Path) -> Path:
    return Path(out).with_suffix(".run.json")


def read_details(path: Path) -> list[dict]:
    """Details written so far.

    Only the last line may be torn (a kill in the middle of a write, so no newline ends it): it is
    dropped and truncated away. Any other bad line is an error naming it: dropping it, or what follows
    it, would silently destroy answers already paid for.
    """
    if not path.exists():
        return []
    with open(path, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        if size:
            f.seek(max(0, size - (1 << 20)))
            tail = f.read()
            if not tail.endswith(b"\n"):  # every row is written with its newline: this one was cut short
                cut = tail.rfind(b"\n")
                if cut < 0 and size > len(tail):
                    raise ValueError(f"{path}: its last line is over 1 MiB long; not a details file?")
                f.truncate(size - len(tail) + cut + 1)
    rows = []
    for lineno, row, error in data.iter_jsonl(path):
        if error is None and not (isinstance(row, dict) and "id" in row and isinstance(row.get("question_index"), int)):
            error = "a details row needs 'id' and an integer 'question_index'"
        if error:
            raise ValueError(f"{path}:{lineno}: {error}; only a last line cut short by a kill is dropped, so "
                             "fix or remove this one, or pass --overwrite to start over")
        rows.append(row)
    return rows


def read_details_only(path: Path) -> list[dict]:
    """Another run's details file, read without touching it: unlike ``read_details`` a torn last line is an
    error here, not truncated away (the run may still be writing it)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{line_no}: not JSON ({e.msg}); is the run still writing it?") from None
    return rows


def check_run(info: Path, outputs: Sequence[Path], run_info: dict, overwrite: bool) -> None:
    """Refuse to resume ``outputs`` made with other settings, or with settings nobody recorded in ``info``
    (a file some other command wrote: appending to it, or truncating its last lines, would damage it);
    ``overwrite`` removes them. Then ``run_info`` is recorded. Predict and distill share it."""
    there = [p for p in map(Path, outputs) if p.exists()]
    if overwrite:
        for p in there:
            p.unlink()
    elif there and not info.exists():
        raise ValueError(f"{there[0]} exists but {info} does not, so the settings that made it are unknown (another "
                         "command's file?); pass --overwrite to start over, or choose another --out")
    elif there:
        old = json.loads(info.read_text(encoding="utf-8"))
        # Both ways: a setting recorded before and not now (a few-shot run resumed zero-shot) differs too.
        changed = [f"{k}: {old.get(k)!r} -> {run_info.get(k)!r}" for k in sorted(set(old) | set(run_info), key=str)
                   if old.get(k) != run_info.get(k)]
        if changed:
            raise ValueError(f"{there[0]} was written with other settings ({'; '.join(changed)}); "
                             "rerun with the same ones to resume, or pass --overwrite to start over")
    data.atomic_write_text(info, json.dumps(run_info, ensure_ascii=False, indent=2) + "\n")


def lock_path(out: Path) -> Path:
    return Path(out).with_suffix(".lock")


@contextlib.contextmanager
def lock_output(out: Path):
    """Hold an exclusive lock on ``out`` while writing it: two runs appending to one details file would
    answer every question twice. The lock file names the holder's PID; the OS drops the lock when the
    process dies, so a killed run never leaves a stale one."""
    path = lock_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            raise ValueError(f"{out} is being written by another run (process {holder}, lock {path}); "
                             "wait for it to finish or choose another --out") from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        try:
            yield
        finally:
            f.truncate(0)
            fcntl.flock(f, fcntl.LOCK_UN)
