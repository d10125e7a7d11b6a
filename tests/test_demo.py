"""The demo loop end to end on the tiny model: every step's output, the table's rows, and a rerun that
skips finished steps instead of redoing them."""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil

import pytest
from safetensors.torch import load_file

from logictune import data, demo, synth


def _cfg(tmp_path, tiny_model_dir, **kw):
    return demo.DemoConfig(out_dir=tmp_path / "demo", model=str(tiny_model_dir), train_questions=24,
                           val_questions=10, epochs=1.0, max_new_tokens=16, batch_size=8, **kw)


def test_demo_runs_the_loop_and_resumes(tmp_path, tiny_model_dir, monkeypatch):
    said: list[str] = []
    ticks: list[tuple[str, int, int]] = []
    cfg = _cfg(tmp_path, tiny_model_dir)
    result = demo.run(cfg, say=said.append, progress=lambda *t: ticks.append(t))

    out = cfg.out_dir
    train, val = data.load_problems(out / "data" / "train.jsonl"), data.load_problems(out / "data" / "val.jsonl")
    assert not {p.id for p in train} & {p.id for p in val}
    rationales = [json.loads(line) for line in (out / "data" / "rationales.jsonl").read_text().splitlines()]
    assert all(r["rationale"].endswith(f"答案是：{r['answer']}") for r in rationales)

    base, tuned = result.rows
    n_val = sum(len(p.questions) for p in val)
    assert base.name == "base" and tuned.name == "tuned" and base.n == tuned.n == n_val
    assert tuned.train_seconds and tuned.train_seconds > 0
    assert (result.adapter / "adapter_config.json").exists() and result.report.exists()
    # Training moved the adapter (LoRA's B starts at zero), and the tuned predictions were made with it:
    # recorded in their run, and their greedy chains' log-probs differ from the base model's.
    weights = load_file(result.adapter / "adapter_model.safetensors")
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    assert lora_b and all(t.abs().max() > 0 for t in lora_b)
    assert json.loads((out / "tuned" / "pred.run.json").read_text())["adapter"] == str(result.adapter)
    assert json.loads((out / "base" / "pred.run.json").read_text())["adapter"] is None
    logprobs = {k: [s["logprob"] for r in map(json.loads, (out / k / "pred.details.jsonl").read_text().splitlines())
                    for s in r["samples"]] for k in ("base", "tuned")}
    assert len(logprobs["base"]) == len(logprobs["tuned"]) == n_val and logprobs["base"] != logprobs["tuned"]
    assert {t[0] for t in ticks} == {"base", "tuned"} and max(t[1] for t in ticks if t[0] == "base") == n_val
    summary = json.loads((out / "summary.json").read_text())
    assert [r["name"] for r in summary] == ["base", "tuned"]

    # A rerun keeps every step: same data, no new training, same predictions.
    preds = {k: (out / k / "pred.details.jsonl").read_bytes() for k in ("base", "tuned")}
    said.clear()
    again = demo.run(cfg, say=said.append)
    assert any(s.startswith("train: kept") for s in said) and any(s.startswith("data: kept") for s in said)
    assert {k: (out / k / "pred.details.jsonl").read_bytes() for k in ("base", "tuned")} == preds
    assert [r.correct for r in again.rows] == [r.correct for r in result.rows]
    assert again.rows[1].train_seconds == tuned.train_seconds

    # The command prints the before/after table from the kept steps, without redoing any of them.
    from typer.testing import CliRunner

    from logictune.cli import app

    # the CLI's DemoConfig with this test's small sizes: the same settings, so every step is kept
    monkeypatch.setattr(demo, "DemoConfig", functools.partial(demo.DemoConfig, train_questions=24, val_questions=10,
                                                              epochs=1.0, max_new_tokens=16, batch_size=8))
    printed = CliRunner().invoke(app, ["demo", "--out-dir", str(out), "--model", str(cfg.model)],
                                 env={"COLUMNS": "80"})
    assert printed.exit_code == 0, printed.output
    assert "train: kept" in printed.output and f"change: {100 * (tuned.accuracy - base.accuracy):+.1f} points" \
        in printed.output
    table = [line for line in printed.output.splitlines() if line.startswith("│ ")]
    assert [line.split()[1] for line in table] == ["base", "tuned"]
    assert all(len(line) <= 80 for line in table)  # readable in a plain 80-column log
    assert not any("redoing" in line for line in printed.output.splitlines())

    # Another generation length: both evaluations are redone (and said so); data and adapter are kept.
    said.clear()
    longer = demo.run(dataclasses.replace(cfg, max_new_tokens=20), say=said.append)
    assert [s.split(",")[0] for s in said if "redoing" in s] == ["base: redoing it", "tuned: redoing it"], said
    assert any(s.startswith("train: kept") for s in said) and any(s.startswith("data: kept") for s in said)
    assert all("max_new_tokens" in s for s in said if "redoing" in s)
    assert {k: (out / k / "pred.details.jsonl").read_bytes() for k in ("base", "tuned")} != preds
    assert longer.rows[1].train_seconds == tuned.train_seconds


def test_a_rerun_with_other_settings_or_inputs_redoes_the_steps_that_used_them(tmp_path, tiny_model_dir):
    """The demo's record of what each step was made from: seed, --quick's sizes, the --data file's contents
    and the model's files each redo the steps that used them (checked without running a model)."""
    said: list[str] = []
    cfg = _cfg(tmp_path, tiny_model_dir)
    made = lambda c: demo.Made(c, said.append)  # noqa: E731 - read the record afresh, as a rerun does
    redone = lambda: [s for s in said if "redoing" in s]  # noqa: E731
    files = demo.prepare_data(cfg, said.append, made(cfg))
    first = files["train"].read_bytes()
    demo.prepare_data(cfg, said.append, made(cfg))
    assert said[-1].startswith("data: kept")
    demo.prepare_data(dataclasses.replace(cfg, seed=1), said.append, made(cfg))
    assert redone() == [f"data: redoing it, {cfg.out_dir / 'data'} was made with other seed"]
    assert files["train"].read_bytes() != first
    quick = dataclasses.replace(cfg, seed=1, quick=True, train_questions=None, val_questions=None)
    demo.prepare_data(quick, said.append, made(quick))
    assert redone()[-1].endswith("was made with other train_questions, val_questions")

    mine = tmp_path / "mine.jsonl"
    data.write_problems(synth.generate(20, seed=4, id_prefix="mine").problems, mine)
    own = dataclasses.replace(cfg, data=mine)
    demo.prepare_data(own, said.append, made(own))
    data.write_problems(synth.generate(20, seed=5, id_prefix="mine").problems, mine)  # same name, new contents
    demo.prepare_data(own, said.append, made(own))
    assert redone()[-1].endswith("was made with other data content")

    # The model's files: a step made with them is redone once they change, under the same spec.
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    step_out, spec = tmp_path / "step", dataclasses.replace(cfg, model=str(model))
    made(spec).check("train", {**made(spec).model(), "lr": 1.0}, step_out)  # recorded, then the step ran:
    step_out.mkdir()
    made(spec).check("train", {**made(spec).model(), "lr": 1.0}, step_out)
    assert step_out.exists() and len(redone()) == 4
    (model / "config.json").write_text((model / "config.json").read_text() + "\n")
    made(spec).check("train", {**made(spec).model(), "lr": 1.0}, step_out)
    assert not step_out.exists() and len(redone()) == 5 and redone()[-1].startswith("train: redoing it")
    assert redone()[-1].endswith("model files")


def test_an_output_the_demo_did_not_record_making_is_refused_not_removed(tmp_path, tiny_model_dir):
    cfg = _cfg(tmp_path, tiny_model_dir)
    theirs = cfg.out_dir / "data" / "train.jsonl"  # `--out-dir .` where the user keeps data/
    theirs.parent.mkdir(parents=True)
    theirs.write_text("the user's own file\n", encoding="utf-8")
    with pytest.raises(ValueError, match="does not say this demo made it"):
        demo.prepare_data(cfg, print, demo.Made(cfg, print))
    assert theirs.read_text(encoding="utf-8") == "the user's own file\n"


def test_demo_takes_a_labelled_file_of_the_users(tmp_path, tiny_model_dir):
    mine = tmp_path / "mine.jsonl"
    data.write_problems(synth.generate(40, seed=4, id_prefix="mine").problems, mine)
    cfg = _cfg(tmp_path, tiny_model_dir, data=mine)
    result = demo.run(cfg, say=lambda s: None)
    assert not (cfg.out_dir / "data" / "rationales.jsonl").exists()  # answer-only training on user data
    ids = {p.id for p in data.load_problems(cfg.out_dir / "data" / "val.jsonl")}
    assert ids and all(i.startswith("mine_") for i in ids)
    assert result.rows[0].n == result.rows[1].n > 0


def test_wilson_interval():
    from logictune.evaluate import wilson

    lo, hi = wilson(50, 100)
    assert 0.40 < lo < 0.41 and 0.59 < hi < 0.60
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
