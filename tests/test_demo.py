"""The demo: its sizing (a pure function of measured speed and budget), then the loop end to end on the tiny
model (the table's rows, the constant among them, an adapter that moved and was used, a rerun that keeps
every step, a changed setting that redoes only what used it)."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
from rich.console import Console
from safetensors.torch import load_file

from logictune import data, demo, demo_size, synth
from logictune.demo_size import MIN_TRAIN, MIN_VAL, Speed, choose_sizes, explain

FAST = Speed(train_tokens_per_s=400, generate_tokens_per_s=150, prefill_tokens_per_s=1500, engine="llamacpp")
SLOW = Speed(train_tokens_per_s=30, generate_tokens_per_s=12, prefill_tokens_per_s=150, engine="llamacpp")
CRAWL = Speed(train_tokens_per_s=3, generate_tokens_per_s=1, prefill_tokens_per_s=10, engine="hf")


def test_a_slower_machine_or_a_smaller_budget_gets_a_smaller_loop_never_below_the_floors():
    fast, slow, crawl = (choose_sizes(s, 12) for s in (FAST, SLOW, CRAWL))
    assert fast.train_questions > slow.train_questions and fast.val_questions >= slow.val_questions
    assert slow.train_questions >= crawl.train_questions == MIN_TRAIN and crawl.val_questions == MIN_VAL
    assert choose_sizes(FAST, 6).train_questions < fast.train_questions
    assert choose_sizes(FAST, 30).train_questions > fast.train_questions
    assert fast.fits and not fast.reduced and fast.estimated_minutes <= 12
    assert slow.reduced and crawl.reduced and not crawl.fits and crawl.estimated_minutes > 12
    # pure: the same speed and budget give the same sizes; sizes are multiples of the step
    assert choose_sizes(SLOW, 12) == slow
    assert all(x % demo_size.STEP == 0 for s in (fast, slow, crawl) for x in (s.train_questions, s.val_questions))
    # the probe's own time comes out of the budget
    assert choose_sizes(dataclasses.replace(FAST, seconds=120), 12).train_questions < fast.train_questions
    with pytest.raises(ValueError, match="minutes"):
        choose_sizes(FAST, 0)


def test_the_explanation_says_what_was_measured_chosen_and_why():
    fast = "\n".join(explain(choose_sizes(FAST, 12), FAST))
    assert "LoRA training 400 tokens/s" in fast and "llamacpp writes 150 tokens/s" in fast
    assert "12-minute budget" in fast and "smaller loop" not in fast and "over the" not in fast
    sizes = choose_sizes(CRAWL, 12)
    crawl = "\n".join(explain(sizes, CRAWL))
    assert f"{sizes.train_questions} training and {sizes.val_questions} validation questions" in crawl
    assert "runs a smaller loop" in crawl and "over the 12-minute budget" in crawl


def test_the_probe_measures_positive_speeds_on_the_tiny_model(tiny_model_dir):
    speed = demo_size.measure(str(tiny_model_dir), "hf", top_layers=1, train_tokens=32, new_tokens=4)
    assert speed.engine == "hf" and speed.seconds > 0
    assert min(speed.train_tokens_per_s, speed.generate_tokens_per_s, speed.prefill_tokens_per_s) > 0



def test_the_probe_times_batches_as_the_demo_answers_in_them_with_distinct_prompts(tiny_model_dir, monkeypatch):
    # A batched engine writes several times faster per token than one prompt alone shows; the demo answers in
    # batches, so the probe must too, or it sizes the demo for a machine several times slower than this one.
    from logictune.engines import build

    batches = []
    real_build = build.build_engine

    def recording_build(choice):
        built = real_build(choice)
        generate = built.engine.generate
        built.engine.generate = lambda texts, *a, **k: batches.append(list(texts)) or generate(texts, *a, **k)
        return built

    monkeypatch.setattr(build, "build_engine", recording_build)
    demo_size.measure(str(tiny_model_dir), "hf", top_layers=1, train_tokens=32, new_tokens=4, batch_size=16)
    assert [len(b) for b in batches] == [demo_size.PROBE_BATCH] * 2
    every = [t for b in batches for t in b]
    assert len(set(every)) == len(every)  # no copy an engine could serve from its cache
    batches.clear()
    demo_size.measure(str(tiny_model_dir), "hf", top_layers=1, train_tokens=32, new_tokens=4, batch_size=3)
    assert [len(b) for b in batches] == [3, 3]

def _cfg(tmp_path, tiny_model_dir, **kw):
    return demo.DemoConfig(out_dir=tmp_path / "demo", model=str(tiny_model_dir), max_new_tokens=16, batch_size=8,
                           top_layers=1, **kw)


def _rows(out, name):
    return [json.loads(line) for line in (out / name / "pred.details.jsonl").read_text().splitlines()]


def test_demo_sizes_itself_runs_the_loop_and_resumes(tmp_path, tiny_model_dir, monkeypatch):
    # A slow machine measured: the floors for 12 minutes, and the demo says it runs a smaller loop.
    probes = []
    monkeypatch.setattr(demo_size, "measure", lambda *a, **k: probes.append(a) or dataclasses.replace(SLOW, seconds=3))
    said: list[str] = []
    ticks: list[tuple[str, int, int]] = []
    cfg = _cfg(tmp_path, tiny_model_dir, engine="hf")
    result = demo.run(cfg, say=said.append, progress=lambda *t: ticks.append(t))
    assert result.sizes == {"train_questions": MIN_TRAIN, "val_questions": MIN_VAL, "epochs": 1.0}
    assert any(s.startswith("sizes: 24 training and 20 validation questions") for s in said), said
    assert any("runs a smaller loop" in s for s in said) and len(probes) == 1

    out = cfg.out_dir
    train, val = data.load_problems(out / "data" / "train.jsonl"), data.load_problems(out / "data" / "val.jsonl")
    assert not {p.id for p in train} & {p.id for p in val}
    n_val = sum(len(p.questions) for p in val)
    assert n_val >= MIN_VAL and sum(len(p.questions) for p in train) >= MIN_TRAIN - 4
    programs = [json.loads(line) for line in (out / "data" / "programs.jsonl").read_text().splitlines()]
    assert programs and {r["id"] for r in programs} <= {p.id for p in train}
    assert all(r["method"] == "program" and "```python" in r["rationale"] for r in programs)

    # the table's rows: the constant (the validation side's own majority letter), base direct and program, tuned
    names = [r.name for r in result.rows]
    keys = [q.answer for p in val for q in p.questions]
    top = names[0].removeprefix("always ")
    assert names == [f"always {top}", "base direct", "base program", "tuned program"]
    assert result.rows[0].correct == keys.count(top) == max(map(keys.count, keys))
    assert all(r.n == n_val for r in result.rows)
    assert result.rows[1].computed is None and 0 <= result.rows[3].computed <= 1
    assert result.rows[3].train_seconds > 0 and result.rows[0].interval()[0] < result.rows[0].accuracy
    assert [(t.a, t.b) for t in result.tests] == [("tuned program", "base program"), ("tuned program", names[0])]
    assert all(0 < t.p <= 1 for t in result.tests)
    # the McNemar counts are the questions where the two runs differ
    tuned, base = ({(r["id"], r["question_index"]): r["answer"] for r in _rows(out, k)}
                   for k in ("tuned-program", "base-program"))
    gold = {(p.id, i): q.answer for p in val for i, q in enumerate(p.questions)}
    assert result.tests[0].only_a == sum(tuned[k] == g != base[k] for k, g in gold.items())
    assert result.tests[0].only_b == sum(base[k] == g != tuned[k] for k, g in gold.items())
    assert {r["method"] for r in _rows(out, "base-program")} == {"program"}
    assert {r["method"] for r in _rows(out, "base-direct")} == {"direct"}

    # Training moved the adapter (LoRA's B starts at zero), and the tuned predictions were made with it:
    # recorded in their run, and their log-probs differ from the base model's on the same prompts.
    weights = load_file(result.adapter / "adapter_model.safetensors")
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    assert lora_b and all(t.abs().max() > 0 for t in lora_b)
    assert json.loads((out / "tuned-program" / "pred.run.json").read_text())["adapter"] == str(result.adapter)
    assert json.loads((out / "base-program" / "pred.run.json").read_text())["adapter"] is None
    logprobs = {k: {(r["id"], r["question_index"]): [s["logprob"] for s in r["samples"]] for r in _rows(out, k)}
                for k in ("base-program", "tuned-program")}
    assert logprobs["base-program"].keys() == logprobs["tuned-program"].keys() == gold.keys()
    assert all(logprobs["base-program"][k] != logprobs["tuned-program"][k] for k in gold)
    assert {t[0] for t in ticks} == {"base direct", "base program", "tuned program"}
    assert max(t[1] for t in ticks if t[0] == "base program") == n_val
    summary = json.loads((out / "summary.json").read_text())
    assert [r["name"] for r in summary["rows"]] == names and summary["sizes"] == result.sizes

    # The table, the paired tests, in a plain 80-column log.
    console = Console(width=80, record=True, color_system=None)
    demo.print_table(result, console)
    text = console.export_text()
    table = [line for line in text.splitlines() if line.startswith("│ ")]
    assert [line.split("│")[1].strip() for line in table] == names and all(len(line) <= 80 for line in table)
    assert f"tuned program vs base program: {100 * (result.rows[3].accuracy - result.rows[2].accuracy):+.1f} " \
           "points; McNemar" in text.replace("\n", " ")

    # A rerun keeps every step, the probe included: same sizes, no new training, same predictions.
    preds = {k: (out / k / "pred.details.jsonl").read_bytes() for k in ("base-direct", "base-program", "tuned-program")}
    said.clear()
    again = demo.run(cfg, say=said.append)
    assert len(probes) == 1 and any(s.startswith("probe: kept") for s in said)
    assert any(s.startswith("train: kept") for s in said) and any(s.startswith("data: kept") for s in said)
    assert not any("redoing" in s for s in said), said
    assert {k: (out / k / "pred.details.jsonl").read_bytes() for k in preds} == preds
    assert [r.correct for r in again.rows] == [r.correct for r in result.rows]

    # Another generation length: the three answering steps are redone (and said so); data and adapter kept.
    said.clear()
    demo.run(dataclasses.replace(cfg, max_new_tokens=20), say=said.append)
    assert [s.split(",")[0] for s in said if "redoing" in s] == \
        ["base direct: redoing it", "base program: redoing it", "tuned program: redoing it"], said
    assert any(s.startswith("train: kept") for s in said) and all("max_new_tokens" in s for s in said if "redoing" in s)


def test_a_rerun_with_other_settings_or_inputs_redoes_the_steps_that_used_them(tmp_path, tiny_model_dir):
    """The demo's record of what each step was made from: seed, sizes, the --data file's contents and the
    model's files each redo the steps that used them (checked without running a model)."""
    said: list[str] = []
    cfg = _cfg(tmp_path, tiny_model_dir)
    sizes = {"train_questions": 8, "val_questions": 6, "epochs": 1.0}
    made = lambda c: demo.Made(c, said.append)  # noqa: E731 - read the record afresh, as a rerun does
    redone = lambda: [s for s in said if "redoing" in s]  # noqa: E731
    files = demo.prepare_data(cfg, sizes, said.append, made(cfg))
    first = files["train"].read_bytes()
    demo.prepare_data(cfg, sizes, said.append, made(cfg))
    assert said[-1].startswith("data: kept")
    demo.prepare_data(dataclasses.replace(cfg, seed=1), sizes, said.append, made(cfg))
    assert redone() == [f"data: redoing it, {cfg.out_dir / 'data'} was made with other seed"]
    assert files["train"].read_bytes() != first
    demo.prepare_data(dataclasses.replace(cfg, seed=1), {**sizes, "train_questions": 12}, said.append, made(cfg))
    assert redone()[-1].endswith("was made with other train_questions")

    mine = tmp_path / "mine.jsonl"
    data.write_problems(synth.generate(20, seed=4, id_prefix="mine").problems, mine)
    own = dataclasses.replace(cfg, data=mine)
    demo.prepare_data(own, sizes, said.append, made(own))
    data.write_problems(synth.generate(20, seed=5, id_prefix="mine").problems, mine)  # same name, new contents
    demo.prepare_data(own, sizes, said.append, made(own))
    assert redone()[-1].endswith("was made with other data content")

    # The model's files: a step made with them is redone once they change, under the same spec.
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    step_out, spec = tmp_path / "step", dataclasses.replace(cfg, model=str(model))
    made(spec).check("train", {**made(spec).model(), "lr": 1.0}, step_out)  # recorded, then the step ran:
    step_out.mkdir()
    made(spec).check("train", {**made(spec).model(), "lr": 1.0}, step_out)
    n = len(redone())
    assert step_out.exists()
    (model / "config.json").write_text((model / "config.json").read_text() + "\n")
    made(spec).check("train", {**made(spec).model(), "lr": 1.0}, step_out)
    assert not step_out.exists() and len(redone()) == n + 1 and redone()[-1].startswith("train: redoing it")
    assert redone()[-1].endswith("model files")


def test_an_output_the_demo_did_not_record_making_is_refused_not_removed(tmp_path, tiny_model_dir):
    cfg = _cfg(tmp_path, tiny_model_dir)
    theirs = cfg.out_dir / "data" / "train.jsonl"  # `--out-dir .` where the user keeps data/
    theirs.parent.mkdir(parents=True)
    theirs.write_text("the user's own file\n", encoding="utf-8")
    with pytest.raises(ValueError, match="does not say this demo made it"):
        demo.prepare_data(cfg, {"train_questions": 8, "val_questions": 6, "epochs": 1.0}, print, demo.Made(cfg, print))
    assert theirs.read_text(encoding="utf-8") == "the user's own file\n"


def test_demo_scores_a_labelled_file_of_the_users_with_the_same_table(tmp_path, tiny_model_dir):
    mine = tmp_path / "mine.jsonl"
    data.write_problems(synth.generate(40, seed=4, id_prefix="mine").problems, mine)
    cfg = _cfg(tmp_path, tiny_model_dir, data=mine, train_questions=8, val_questions=12)
    said: list[str] = []
    result = demo.run(cfg, say=said.append)
    val = data.load_problems(cfg.out_dir / "data" / "val.jsonl")
    assert val and all(p.id.startswith("mine_") for p in val)  # scored on theirs ...
    assert all(p.id.startswith("demo_") for p in data.load_problems(cfg.out_dir / "data" / "train.jsonl"))  # trained on synthetic
    n = sum(len(p.questions) for p in val)
    assert 12 <= n < 40 and [r.n for r in result.rows] == [n] * 4
    assert [r.name for r in result.rows][1:] == ["base direct", "base program", "tuned program"]
    console = Console(width=100, record=True, color_system=None)
    demo.print_table(result, console, synthetic=False)
    text = console.export_text()
    assert "on your questions" in text and "95% CI" in text and "always " in text


def test_wilson_interval():
    from logictune.evaluate import wilson

    lo, hi = wilson(50, 100)
    assert 0.40 < lo < 0.41 and 0.59 < hi < 0.60
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
