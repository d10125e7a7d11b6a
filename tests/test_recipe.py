"""The recipe runner: the tiny recipe (cpu-0.5b's steps at tiny sizes) end to end, killed with SIGKILL once
inside every step and rerun to the same files; skips, reruns after a changed variable, --from, --dry-run
and errors that name the file and the step on a recipe of cheap steps."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

import logictune
from logictune import data, synth
from logictune import recipe as rc
from logictune.cli import app

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "recipes" / "tiny-test.yaml"
STEPS = ["split", "synth", "stage1", "star", "stage2", "predict-val", "evaluate-val", "submission"]
# What must come out byte for byte the same after kills: data, predictions, submission (and the adapters,
# since training resumes exactly on a CPU).
SAME = ["split/train.jsonl", "split/val.jsonl", "synth.jsonl", "synth.rationales.jsonl", "star.jsonl",
        "stage1/adapter_model.safetensors", "stage2/adapter_model.safetensors", "val/pred.jsonl",
        "submission.jsonl"]


@pytest.fixture(scope="module")
def tiny_sets(tmp_path_factory, tiny_model_dir) -> list[str]:
    """--set options pointing the tiny recipe at the tiny model and a few dozen synthetic questions."""
    d = tmp_path_factory.mktemp("recipe-data")
    for name, n, seed in (("train", 14, 1), ("test", 4, 2)):
        data.write_problems(synth.generate(n, seed=seed, difficulty="easy").problems, d / f"{name}.jsonl")
    return ["--set", f"model={tiny_model_dir}", "--set", f"train_data={d / 'train.jsonl'}",
            "--set", f"test_data={d / 'test.jsonl'}"]


def _cmd(work: Path, sets: list[str], *more: str) -> list[str]:
    return [sys.executable, "-m", "logictune", "recipe", str(TINY), "--set", f"work={work}", *sets, *more]


def _run(work: Path, sets: list[str], *more: str) -> subprocess.CompletedProcess:
    return subprocess.run(_cmd(work, sets, *more), cwd=REPO, capture_output=True, text=True, timeout=600)


def _starts(work: Path) -> list[str]:
    log = work / ".recipe" / "log.jsonl"
    return [e["step"] for line in log.read_text().splitlines() if (e := json.loads(line))["event"] == "start"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_sets) -> Path:
    """One uninterrupted run of the tiny recipe."""
    work = tmp_path_factory.mktemp("recipe-ref") / "w"
    proc = _run(work, tiny_sets)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return work


def test_tiny_recipe_writes_every_output_and_prints_the_adapter(reference, tiny_sets):
    for rel in SAME + ["star.failed.jsonl", "val/pred.details.jsonl", "val/report/report.md",
                       "submission.details.jsonl", "stage2/config.yaml"]:
        assert (reference / rel).exists(), rel
    assert _starts(reference) == STEPS
    for name in STEPS:
        done = json.loads((reference / ".recipe" / f"{name}.done").read_text())
        assert done["argv"][0] in ("data", "synth", "train", "distill", "predict", "evaluate")
        assert all(v is not None for v in done["outputs"].values())
    stage2 = yaml.safe_load((reference / "stage2" / "config.yaml").read_text())
    assert stage2["missing_rationale"] == "answer_only" and stage2["eval_fraction"] == 0
    sub = data.load_problems(reference / "submission.jsonl")
    assert all(q.answer for p in sub for q in p.questions)

    # (c) a second run executes no step, and prints where the final adapter is
    again = _run(reference, tiny_sets)
    assert again.returncode == 0, again.stdout[-3000:]
    assert again.stdout.count("skipped") == len(STEPS) and _starts(reference) == STEPS
    assert f"adapter: {reference / 'stage2'}" in again.stdout.replace("\n", "")


PROGRAMS = REPO / "configs" / "recipes" / "cpu-0.5b-programs.yaml"
PROGRAM_STEPS = [STEPS[0], "letter-bias", *STEPS[1:]]
TINY_PROGRAMS = REPO / "configs" / "recipes" / "tiny-programs-test.yaml"


def test_the_program_loop_plans_its_steps_in_order():
    """split, synth programs, stage 1 on them, STaR programs with the stage-1 model, stage 2 on the kept ones,
    validation (programs, else direct), the submission; the final variant learns from all the training data."""
    base, final, tiny = (rc.load(p) for p in (PROGRAMS, PROGRAMS.with_name("cpu-0.5b-programs-final.yaml"),
                                             TINY_PROGRAMS))
    assert [s.name for s in base.steps] == [s.name for s in final.steps] == [s.name for s in tiny.steps] == PROGRAM_STEPS
    argv = {s.name: s.argv for s in base.steps}
    after = lambda name, flag: argv[name][argv[name].index(flag) + 1]  # noqa: E731
    assert argv["synth"][0] == "synth" and after("synth", "--programs") == "runs/cpu-0.5b-programs/synth.programs.jsonl"
    assert argv["stage1"][0] == "train" and after("stage1", "--rationales") == after("synth", "--programs")
    assert argv["star"][:2] == ["distill", "--self"] and after("star", "--method") == "program"
    assert after("star", "--teacher") == "local:qwen2.5-coder-0.5b" and after("star", "--engine") == "llamacpp"
    assert after("star", "--adapter") == after("stage1", "--output-dir")
    assert after("star", "--data") == after("stage2", "--data") == "runs/cpu-0.5b-programs/split/train.jsonl"
    assert after("stage2", "--rationales") == after("star", "--out")
    for name in ("predict-val", "submission"):
        assert after(name, "--method") == "program" and after(name, "--fallback") == "direct"
        assert after(name, "--adapter") == after("stage2", "--output-dir") == base.results["adapter"]
    assert after("evaluate-val", "--pred") == after("predict-val", "--out")
    # the fallback's letter bias: fit on the gold letters of the data the loop learns from, used by both predicts
    assert after("letter-bias", "--gold") == after("stage2", "--data") and after("letter-bias", "--weight") == "1"
    assert after("predict-val", "--letter-bias") == after("submission", "--letter-bias") == after("letter-bias", "--out")
    raw = {s.name: s for s in rc.load(PROGRAMS, ["letter_bias=null"]).steps}
    assert not raw["letter-bias"].enabled and "--letter-bias" not in raw["predict-val"].argv
    assert after("predict-val", "--data") == after("evaluate-val", "--gold") == "runs/cpu-0.5b-programs/split/val.jsonl"
    part = {s.name: s.argv for s in rc.load(PROGRAMS, ["val_data=runs/val_a.jsonl"]).steps}
    of_part = lambda name, flag: part[name][part[name].index(flag) + 1]  # noqa: E731
    assert of_part("predict-val", "--data") == of_part("evaluate-val", "--gold") == "runs/val_a.jsonl"
    stage2 = next(s for s in final.steps if s.name == "stage2")
    assert stage2.argv[stage2.argv.index("--data") + 1] == base.vars["train_data"]
    assert [s.name for s in final.steps if not s.enabled] == ["predict-val", "evaluate-val"]


def test_the_tiny_program_loop_runs_end_to_end_and_prints_the_adapter(tmp_path, tiny_sets):
    work = tmp_path / "w"
    cmd = [sys.executable, "-m", "logictune", "recipe", str(TINY_PROGRAMS), "--set", f"work={work}", *tiny_sets]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert _starts(work) == PROGRAM_STEPS
    programs = [json.loads(line) for line in (work / "synth.programs.jsonl").read_text().splitlines()]
    assert programs and all(r["method"] == "program" for r in programs)
    stage1 = yaml.safe_load((work / "stage1" / "config.yaml").read_text())
    assert stage1["rationales"] == str(work / "synth.programs.jsonl")
    assert (work / "star.jsonl").exists() and json.loads((work / "star.run.json").read_text())["method"] == "program"
    for name in ("val/pred", "submission"):
        rows = [json.loads(line) for line in (work / f"{name}.details.jsonl").read_text().splitlines()]
        assert rows and {r["method"] for r in rows} == {"program"}
        info = json.loads((work / f"{name}.run.json").read_text())
        assert info["adapter"] == str(work / "stage2") and info["letter_bias"]["weight"] == 1
    assert (work / "val" / "report" / "report.md").exists()
    assert all(q.answer for p in data.load_problems(work / "submission.jsonl") for q in p.questions)
    assert f"adapter: {work / 'stage2'}" in proc.stdout.replace("\n", "")
    # a rerun runs nothing
    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and again.stdout.count("skipped") == len(PROGRAM_STEPS) and _starts(work) == PROGRAM_STEPS


def test_killed_once_inside_every_step_finishes_with_the_same_files(tmp_path, reference, tiny_sets):
    # Seeded, so a failure can be replayed; RECIPE_KILL_SEED=N tries other kill points.
    seed = int(os.environ.get("RECIPE_KILL_SEED", "0"))
    print(f"RECIPE_KILL_SEED={seed}")
    rng = random.Random(seed)
    seconds = {n: json.loads((reference / ".recipe" / f"{n}.done").read_text())["seconds"] for n in STEPS}
    work, state = tmp_path / "w", tmp_path / "w" / ".recipe"
    inside = {}
    with open(tmp_path / "runs.log", "w") as log:
        for name in STEPS:
            if (state / f"{name}.done").exists():  # a kill meant for the step before landed in this one
                continue
            launched = time.time()
            proc = subprocess.Popen(_cmd(work, tiny_sets), cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            started = state / f"{name}.started"
            while proc.poll() is None:  # wait until this attempt has started the step (its marker says when)
                marker = rc.plan._read_json(started) if started.exists() else None
                if marker and marker["started"] >= launched:
                    break
                time.sleep(0.02)
            assert proc.poll() is None, f"the run ended before {name} started"
            if name in ("stage1", "stage2"):  # after its first checkpoint, so that train --resume picks it up
                while proc.poll() is None and not (work / name / "checkpoint-1").exists():
                    time.sleep(0.02)
                time.sleep(rng.uniform(0.0, 0.5))
            else:  # a random point within the first half of the step's reference time: the machine's load may
                # make this attempt up to twice as fast, and the kill should still land inside the step
                time.sleep(rng.uniform(0.05, 0.5) * seconds[name])
            inside[name] = not (state / f"{name}.done").exists()
            os.killpg(proc.pid, signal.SIGKILL)  # the runner and the step it runs, as a crash would
            proc.wait()
    print("killed inside:", inside)
    # every long step was killed while it ran (a short one may finish first under load: then the kill lands
    # in the next step)
    assert all(inside.get(n) for n in ("stage1", "star", "stage2", "predict-val", "submission")), inside
    assert sum(inside.values()) >= len(STEPS) - 2, inside

    final = _run(work, tiny_sets)
    assert final.returncode == 0, final.stdout[-3000:] + final.stderr[-3000:]
    for rel in SAME:
        assert (work / rel).read_bytes() == (reference / rel).read_bytes(), rel
    for rel in ("star.failed.jsonl",):  # STaR settles questions as they finish: same lines, any order
        assert sorted((work / rel).read_text().splitlines()) == sorted((reference / rel).read_text().splitlines())
    assert (work / "val" / "report" / "report.md").exists()
    # A kill after the last checkpoint but before the step's .done marker makes the rerun resume a finished
    # run: train must take no step past max_steps (tests/test_train.py checks that case directly).
    assert json.loads((work / "stage2" / "trainer_state.json").read_text())["global_step"] == 2


# ---------------------------------------------------------------- the runner's logic, on cheap steps

CHEAP = """
description: three cheap steps
vars:
  work: {work}
  n: 12
  val_seed: 0
steps:
  - name: make
    command: synth
    args: {{n: "{{n}}", seed: 0, difficulty: easy, out: "{{work}}/all.jsonl"}}
    outputs: ["{{work}}/all.jsonl"]
  - name: split
    argv: [data, split, "{{work}}/all.jsonl", --out-dir, "{{work}}/split", --seed, "{{val_seed}}"]
    outputs: ["{{work}}/split/train.jsonl", "{{work}}/split/val.jsonl"]
  - name: families
    command: data families "{{work}}/split/train.jsonl"
    args: {{out: "{{work}}/families.jsonl"}}
    outputs: ["{{work}}/families.jsonl"]
results:
  families: "{{work}}/families.jsonl"
"""


@pytest.fixture
def cheap(tmp_path) -> Path:
    path = tmp_path / "cheap.yaml"
    path.write_text(CHEAP.format(work=tmp_path / "w"))
    return path


def _invoke(*args: str):
    result = CliRunner().invoke(app, ["recipe", *args])
    return result.exit_code, result.output


def _ran(path: Path) -> list[str]:
    return _starts(path.parent / "w")


def test_rerun_skips_and_a_changed_variable_reruns_its_step_and_those_after(cheap):
    code, out = _invoke(str(cheap))
    assert code == 0, out
    assert _ran(cheap) == ["make", "split", "families"] and "families: " in out
    code, out = _invoke(str(cheap))
    assert code == 0 and out.count("skipped") == 3 and _ran(cheap) == ["make", "split", "families"]
    # val_seed is split's: make is skipped, split reruns, families reruns because its input changed
    code, out = _invoke(str(cheap), "--set", "val_seed=7")
    assert code == 0, out
    assert _ran(cheap)[3:] == ["split", "families"] and "arguments changed: 7" in out
    # n is make's: everything after it reruns
    code, out = _invoke(str(cheap), "--set", "val_seed=7", "--set", "n=16")
    assert code == 0 and _ran(cheap)[5:] == ["make", "split", "families"]
    # --from reruns that step and the rest even when done
    code, out = _invoke(str(cheap), "--set", "val_seed=7", "--set", "n=16", "--from", "split")
    assert code == 0 and _ran(cheap)[8:] == ["split", "families"]
    # an output deleted by hand: that step reruns, and nothing else (its output comes out the same)
    (cheap.parent / "w" / "families.jsonl").unlink()
    code, out = _invoke(str(cheap), "--set", "val_seed=7", "--set", "n=16")
    assert code == 0 and _ran(cheap)[10:] == ["families"] and "output missing" in out


def test_dry_run_shows_the_plan_and_runs_nothing(cheap):
    code, out = _invoke(str(cheap), "--dry-run")
    assert code == 0, out
    assert out.count("would run") >= 3 and "logictune synth --n 12" in out
    assert not (cheap.parent / "w").exists()
    assert _invoke(str(cheap))[0] == 0
    code, out = _invoke(str(cheap), "--dry-run", "--set", "val_seed=3")
    assert code == 0 and "make: skipped" in out and "split: would run (arguments changed: 3)" in out
    assert "families: would run (an earlier step runs first)" in out and len(_ran(cheap)) == 3


def test_a_failing_step_stops_the_run_and_names_it(cheap):
    text = cheap.read_text().replace('"{work}/all.jsonl", --out-dir', '"{work}/nope.jsonl", --out-dir')
    cheap.write_text(text)
    code, out = _invoke(str(cheap))
    assert code != 0 and f"{cheap}: step 'split'" in out.replace("\n", "")
    assert not (cheap.parent / "w" / ".recipe" / "split.done").exists()
    assert (cheap.parent / "w" / ".recipe" / "make.done").exists()


@pytest.mark.parametrize("edit, message", [
    (lambda r: r["steps"][1].update(outptus=r["steps"][1].pop("outputs")),
     "step 'split': unknown key 'outptus'; did you mean 'outputs'?"),
    (lambda r: r["steps"][2]["args"].update(out="{wrok}/f.jsonl"),
     "step 'families': unknown variable {wrok}; did you mean 'work'?"),
    (lambda r: r["steps"][0].update(command="sinth"), "step 'make': 'sinth' is not a logictune command; did you "
                                                      "mean 'synth'?"),
    (lambda r: r["steps"][2].pop("outputs"), "step 'families': 'outputs' must list"),
    (lambda r: r["steps"][2].update(name="split"), "step 'split': another step has this name"),
    (lambda r: r.update(stepz=[]), "unknown key 'stepz'; did you mean 'steps'?"),
    (lambda r: r["vars"].update(a="{b}", b="{a}"), "variables refer to each other in a loop"),
])
def test_a_bad_recipe_names_the_file_and_the_step(cheap, edit, message):
    raw = yaml.safe_load(cheap.read_text())
    edit(raw)
    cheap.write_text(yaml.safe_dump(raw, allow_unicode=True))
    code, out = _invoke(str(cheap), "--dry-run")
    assert code == 1
    flat = out.replace("\n", "")
    assert str(cheap) in flat and message in flat, out


def test_set_and_from_are_checked(cheap):
    code, out = _invoke(str(cheap), "--set", "vla_seed=1")
    assert code == 1 and "no variable 'vla_seed'; did you mean 'val_seed'?" in out.replace("\n", "")
    code, out = _invoke(str(cheap), "--from", "splitt")
    assert code == 1 and "did you mean 'split'?" in out.replace("\n", "")


def test_shipped_recipes_load_and_mirror_each_other():
    base = rc.load(REPO / "configs" / "recipes" / "cpu-0.5b.yaml")
    final = rc.load(REPO / "configs" / "recipes" / "cpu-0.5b-final.yaml")
    tiny = rc.load(TINY)
    assert [s.name for s in base.steps] == [s.name for s in final.steps] == [s.name for s in tiny.steps] == STEPS
    assert base.vars["test_data"] == "../shared/data/round1_test_data.jsonl"
    split = base.steps[0].argv
    assert split[:2] == ["data", "split"] and split[split.index("--val-fraction") + 1] == "0.2"
    star = base.steps[3].argv
    assert star[:2] == ["distill", "--self"] and "local:qwen2.5-coder-0.5b" in star and "--adapter" in star
    assert "missing_rationale=answer_only" in base.steps[4].argv
    # the final model learns from all of the training data and is not scored on part of it
    stage2 = next(s for s in final.steps if s.name == "stage2")
    assert stage2.argv[stage2.argv.index("--data") + 1] == base.vars["train_data"]
    assert [s.name for s in final.steps if not s.enabled] == ["predict-val", "evaluate-val"]
    assert base.results["adapter"] == "runs/cpu-0.5b/stage2"


def test_resume_flags():
    assert rc.resume_flags(["predict", "--out", "x"], fresh=True) == ["--overwrite"]
    assert rc.resume_flags(["predict", "--out", "x"], fresh=False) == []
    assert rc.resume_flags(["synth", "--out", "x"], fresh=True) == []
    assert rc.resume_flags(["train", "--output-dir", "/nonexistent/x"], fresh=False) == []


def test_resume_flags_continue_a_train_run_found_by_option_or_config(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("lr: 0.001\n")
    config = tmp_path / "c.yaml"
    config.write_text(f"output_dir: {run}\n")
    assert rc.resume_flags(["train", "--output-dir", str(run)], fresh=False) == ["--resume"]
    assert rc.resume_flags(["train", "--config", str(config)], fresh=False) == ["--resume"]
    assert rc.resume_flags(["train", "-c", str(config), "--lr", "1"], fresh=True) == ["--overwrite"]
    assert rc.resume_flags(["train", "--output-dir", str(run), "--resume"], fresh=False) == []


def test_the_runner_does_not_import_the_command_line():
    """recipe.py must not depend on the cli package (which imports it): the CLI hands it the command names."""
    code = ("import sys; from logictune import recipe as rc; r = rc.load(sys.argv[1]); "
            "assert r.steps and 'logictune.cli' not in sys.modules, sorted(m for m in sys.modules if 'logictune' in m)")
    subprocess.run([sys.executable, "-c", code, str(TINY)], cwd=REPO, check=True, timeout=120)
    with pytest.raises(rc.RecipeError, match="'synth' is not a logictune command"):
        rc.load(TINY, commands={"data", "train"})


TRAIN_ONLY = """
vars:
  work: {work}
  lr: 1.0e-3
steps:
  - name: make
    command: synth
    args: {{n: 4, seed: 0, difficulty: easy, out: "{{work}}/all.jsonl"}}
    outputs: ["{{work}}/all.jsonl"]
  - name: train
    command: train
    args: {{config: {config}, model: {model}, data: "{{work}}/all.jsonl", output-dir: "{{work}}/run", lr: "{{lr}}",
           max-steps: 1, set: [eval_fraction=0, save_steps=1, report_to=none]}}
    outputs: ["{{work}}/run"]
"""


def test_a_kill_before_train_replaced_its_old_run_starts_over_again(tmp_path, tiny_model_dir):
    """A rerun with a new lr launches train --overwrite; train loads data and model before it replaces the
    old run, so a kill there leaves the old run (and `.started` with the new key). The next attempt must
    start over again, not --resume the old run (which train refuses on every attempt); and once train has
    replaced it, a kill is continued with --resume."""
    path = tmp_path / "train.yaml"
    path.write_text(TRAIN_ONLY.format(work=tmp_path / "w", config=REPO / "configs" / "tiny-test.yaml",
                                      model=tiny_model_dir))
    commands = set(typer.main.get_command(app).commands)
    calls: list[list[str]] = []

    def real(argv: list[str]) -> int:
        calls.append(argv)
        result = CliRunner().invoke(app, argv)
        return result.exit_code

    def killed_before(argv: list[str]) -> int:  # killed while loading: nothing on disk changed
        calls.append(argv)
        return -9

    def killed_after(argv: list[str]) -> int:  # killed once the new run is under way (here: had finished)
        return real(argv) or -9

    run_cfg = tmp_path / "w" / "run" / "config.yaml"
    assert rc.run(rc.load(path, commands=commands), execute=real).returncode == 0
    assert rc.run(rc.load(path, ["lr=2.0e-3"], commands=commands), execute=killed_before).failed == "train"
    assert yaml.safe_load(run_cfg.read_text())["lr"] == 1.0e-3  # the old run is still there
    result = rc.run(rc.load(path, ["lr=2.0e-3"], commands=commands), execute=real)
    assert result.returncode == 0 and result.failed is None, calls[-1]
    assert "--overwrite" in calls[-1] and yaml.safe_load(run_cfg.read_text())["lr"] == 2.0e-3
    assert rc.run(rc.load(path, ["lr=3.0e-3"], commands=commands), execute=killed_after).failed == "train"
    assert rc.run(rc.load(path, ["lr=3.0e-3"], commands=commands), execute=real).returncode == 0
    assert "--resume" in calls[-1] and yaml.safe_load(run_cfg.read_text())["lr"] == 3.0e-3


def test_train_overwrite_killed_mid_delete_leaves_no_half_deleted_run(tmp_path, tiny_model_dir, monkeypatch):
    """The old run is set aside in one rename before it is deleted: a kill during the delete leaves either
    the whole old run or none, never a folder that neither --resume nor --overwrite takes."""
    from logictune import train as tr

    data_file = tmp_path / "d.jsonl"
    data.write_problems(synth.generate(4, seed=0, difficulty="easy").problems, data_file)
    out = tmp_path / "run"
    argv = ["train", "--config", str(REPO / "configs" / "tiny-test.yaml"), "--model", str(tiny_model_dir), "--data",
            str(data_file), "--output-dir", str(out), "--max-steps", "1", "--set", "eval_fraction=0",
            "--set", "report_to=none"]
    assert CliRunner().invoke(app, argv).exit_code == 0

    def killed_mid_delete(path, *args, **kwargs):
        (Path(path) / "config.yaml").unlink(missing_ok=True)  # the first file gone, then the kill
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(tr.shutil, "rmtree", killed_mid_delete)
        assert CliRunner().invoke(app, [*argv, "--lr", "2e-3", "--overwrite"]).exit_code == 130  # as by Ctrl-C
    assert len(list(tmp_path.glob(".run.old-*"))) == 1  # the old run, set aside whole
    result = CliRunner().invoke(app, [*argv, "--lr", "2e-3", "--overwrite"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((out / "config.yaml").read_text())["lr"] == 2e-3
    assert not list(tmp_path.glob(".run.old-*"))  # and the next overwrite cleared what the kill left


# ---------------------------------------------------------------- what a step reads (issue 15 item 6)

READS = """
vars:
  work: {work}
steps:
  - name: fit
    command: train
    args: {{config: {config}, model: {model}, data: {data}, output-dir: "{{work}}/run"}}
    outputs: ["{{work}}/run"]
  - name: score
    command: predict
    args: {{model: reg-model, adapter: "{{work}}/run", data: {data}, out: "{{work}}/pred.jsonl"}}
    outputs: ["{{work}}/pred.jsonl"]
"""


@pytest.fixture
def reads(tmp_path, monkeypatch):
    """A two-step recipe whose steps are run by a stand-in that writes their outputs: a train step that
    names a config (which names a rationales file), a model folder and a data file; a predict step on a
    registry model. Returns run() -> {step: reason it ran}."""
    import io

    from rich.console import Console

    from logictune import models

    monkeypatch.setitem(models.REGISTRY, "reg-model", models.REGISTRY[models.DEFAULT_MODEL])
    d = tmp_path / "in"
    (d / "model").mkdir(parents=True)
    (d / "model" / "config.json").write_text('{"layers": 2}')
    (d / "data.jsonl").write_text("problems v1\n")
    (d / "r.jsonl").write_text("rationales v1\n")
    (d / "c.yaml").write_text(f"rationales: {d / 'r.jsonl'}\noutput_dir: {tmp_path / 'w' / 'elsewhere'}\n")
    path = tmp_path / "reads.yaml"
    path.write_text(READS.format(work=tmp_path / "w", config=d / "c.yaml", model=d / "model",
                                 data=d / "data.jsonl"))

    def execute(argv: list[str]) -> int:
        if argv[0] == "train":
            out = Path(argv[argv.index("--output-dir") + 1])
            out.mkdir(parents=True, exist_ok=True)
            (out / "config.yaml").write_text(f"trained at {time.time_ns()}\n")  # a new run: new content
        else:
            Path(argv[argv.index("--out") + 1]).write_text("answers\n")
        return 0

    def run() -> dict[str, str]:
        result = rc.run(rc.load(path), execute=execute, console=Console(file=io.StringIO()))
        assert result.returncode == 0
        return {d.step.name: d.reason for d in result.decisions if d.action == "run"}

    run.dir = d
    return run


def test_a_step_reruns_when_what_it_reads_changes_under_the_same_arguments(reads, monkeypatch):
    from logictune import models

    d = reads.dir
    assert set(reads()) == {"fit", "score"}
    assert reads() == {}  # its own outputs (--output-dir, --out) do not make it stale
    (d / "data.jsonl").write_text("problems v2\n")
    upstream = "inputs changed (an earlier step's outputs)"
    assert reads() == {"fit": f"file changed: {d / 'data.jsonl'}", "score": upstream}
    (d / "c.yaml").write_text((d / "c.yaml").read_text() + "lr: 0.1\n")
    assert reads() == {"fit": f"file changed: {d / 'c.yaml'}", "score": upstream}
    (d / "r.jsonl").write_text("rationales v2\n")  # named inside the config
    assert reads()["fit"] == f"file changed: {d / 'r.jsonl'}"
    (d / "model" / "model.safetensors").write_text("new weights")
    assert reads()["fit"] == f"file changed: {d / 'model'}"
    entry = models.REGISTRY["reg-model"]
    monkeypatch.setitem(models.REGISTRY, "reg-model", models.RegistryEntry(**{**entry.__dict__, "sha256": "0" * 64}))
    assert reads() == {"score": "model changed: reg-model"}
    monkeypatch.setattr(rc.plan, "__version__", "9.9.9")
    assert reads()["fit"] == f"logictune {logictune.__version__} -> 9.9.9"


def test_hashes_are_cached_by_stat_so_a_rerun_reads_no_file_again(reads, monkeypatch):
    from logictune import fingerprints

    reads()
    hashed: list[str] = []
    real = fingerprints.sha256_file
    monkeypatch.setattr(fingerprints, "sha256_file", lambda p: hashed.append(Path(p).name) or real(p))
    assert reads() == {} and hashed == []
    (reads.dir / "r.jsonl").write_text("rationales v2\n")
    assert set(reads()) == {"fit", "score"}
    # the changed file, and the outputs the two steps rewrote: nothing else is read again
    assert sorted(hashed) == ["config.yaml", "pred.jsonl", "r.jsonl"]


def test_a_distill_step_does_not_read_its_own_reply_cache(tmp_path):
    from logictune.fingerprints import HashCache

    data_file, cache = tmp_path / "d.jsonl", tmp_path / "replies.sqlite"
    data_file.write_text("problems\n")
    cache.write_text("replies so far\n")  # the run adds replies to it: not an input
    from logictune.recipe.load import Step

    step = Step("star", ["distill", "--data", str(data_file), "--out", str(tmp_path / "r.jsonl"), "--cache",
                         str(cache)], [str(tmp_path / "r.jsonl")])
    inputs = rc.plan.step_inputs(step, tmp_path / ".recipe", HashCache(tmp_path / "h.json"))
    assert set(inputs) == {"logictune", f"file {data_file.resolve()}"}  # the data, not the cache it writes
