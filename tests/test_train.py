"""Train: SFT examples, labels, config, run directory, training, resume, adapter, merge, torchrun.

Everything but the `slow` test uses the tiny random Qwen2 (a LoRA step takes milliseconds) and a few
short synthetic problems, so the file runs in well under a minute apart from the 2-process torchrun run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from logictune import data, prompts, sft_data, train_run
from logictune import train as tr

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
QUIET = {"echo": lambda _: None}

# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The tiny model gains nothing from threads, and on a busy 2-core machine spinning OpenMP threads
    make its millisecond ops take 100x longer."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


NAMES = ["甲", "乙", "丙", "丁", "戊", "己"]
CITIES = ["北京", "上海", "广州", "深圳"]


def synthetic_problems(n: int = 8) -> list[dict]:
    """Short logic problems with 2-4 options, so tiny-model sequences stay around 100-200 tokens."""
    rows = []
    for i in range(n):
        a, b = NAMES[i % 6], NAMES[(i + 1) % 6]
        k = 2 + i % 3
        rows.append({
            "id": f"syn_{i:03d}",
            "problem": f"{a}和{b}分别住在不同的城市。{a}不住在{CITIES[i % 4]}，{b}住在{CITIES[(i + 1) % 4]}。",
            "questions": [
                {"question": f"选择题 1：\n{a}住在哪里？", "options": CITIES[:k], "answer": "ABCD"[i % k]},
                {"question": f"选择题 2：\n{b}住在哪里？", "options": CITIES[:2], "answer": "AB"[(i + 1) % 2]},
            ],
        })
    return rows


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def problems_file(tmp_path_factory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("data") / "problems.jsonl", synthetic_problems(8))


@pytest.fixture(scope="module")
def heldout_file(problems_file) -> Path:
    """Four more problems, none sharing an id or a text with problems_file."""
    return write_jsonl(problems_file.parent / "heldout.jsonl", synthetic_problems(12)[8:])


@pytest.fixture(scope="module")
def rationales_file(problems_file, heldout_file) -> Path:
    rows = []
    for p in data.load_problems(problems_file) + data.load_problems(heldout_file):
        for i, q in enumerate(p.questions):
            rows.append({"id": p.id, "question_index": i, "answer": q.answer, "source": "test",
                         "rationale": f"分析：因为条件，所以{q.options['ABCD'.index(q.answer)]}。\n答案是：{q.answer}"})
    return write_jsonl(problems_file.parent / "rationales.jsonl", rows)


def tiny_config(model_dir: Path, problems: Path, out: Path, **over) -> tr.TrainConfig:
    flags = {"model": str(model_dir), "data": str(problems), "output_dir": str(out), **over}
    return tr.load_config(CONFIGS / "tiny-test.yaml", [], **flags)


def expected_tokens(tokenizer, problem, question, completion: str) -> tuple[list[int], list[int]]:
    """(prompt ids, completion ids) as predict renders the prompt and the template closes the turn."""
    prompt = prompts.render_prompt(tokenizer, problem, question)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    full_ids = tokenizer(prompt + completion + "<|im_end|>\n", add_special_tokens=False)["input_ids"]
    assert full_ids[: len(prompt_ids)] == prompt_ids
    return prompt_ids, full_ids[len(prompt_ids):]


# ---------------------------------------------------------------- examples (pure)


def test_examples_use_the_predict_prompt_and_answer_line(tiny_model_dir, problems_file, rationales_file):
    from logictune.models import load_tokenizer

    tok = load_tokenizer(str(tiny_model_dir))
    problems = data.load_problems(problems_file)
    examples, report = sft_data.build_examples(problems, sft_data.load_rationales(rationales_file))
    assert report.examples == report.with_rationale == 16 and not report.dropped
    for ex in examples:
        p = next(p for p in problems if p.id == ex["id"])
        q = p.questions[ex["question_index"]]
        # The prompt trl renders (chat template + generation prompt) is the prompt predict sends.
        rendered = tok.apply_chat_template(ex["prompt"], tokenize=False, add_generation_prompt=True)
        assert rendered == prompts.render_prompt(tok, p, q)
        completion = ex["completion"][0]["content"]
        # The rationale's own answer line is not repeated: exactly one, as the last line.
        assert completion.count("答案是") == 1
        assert completion.splitlines()[-1] == prompts.answer_line(q.answer)
        assert completion.startswith("分析：")


def test_program_and_chain_rationales_mix_and_each_trains_under_its_predict_prompt(tiny_model_dir, problems_file,
                                                                                  tmp_path):
    from logictune.models import load_tokenizer

    tok = load_tokenizer(str(tiny_model_dir))
    problems = data.load_problems(problems_file)
    p, q = problems[0], problems[0].questions[0]
    code = f"opts = {q.options!r}\nprint('ABCD'[opts.index({q.options['ABCD'.index(q.answer)]!r})])"
    wrong = "ABCD".replace(q.answer, "")[0]
    rows = [{"id": p.id, "question_index": 0, "answer": q.answer, "rationale": f"分析：……\n答案是：{q.answer}"},
            {"id": p.id, "question_index": 0, "answer": q.answer, "method": "program", "source": "synth",
             "rationale": prompts.program_completion(code)},
            {"id": p.id, "question_index": 0, "answer": q.answer, "method": "program", "style": "value",
             "rationale": "说明\n```python\nprint(1 + 1)\n```\n多余的话"},
            {"id": p.id, "question_index": 0, "answer": wrong, "method": "program", "rationale": "```python\nprint(1)\n```"},
            {"id": p.id, "question_index": 0, "answer": q.answer, "method": "program", "rationale": "没有代码"}]
    examples, report = sft_data.build_examples(problems[:1], sft_data.load_rationales(write_jsonl(tmp_path / "r.jsonl", rows)))
    assert [ex["method"] for ex in examples] == ["cot", "program", "program"]
    assert report.dropped["rationale_disagrees"] == report.dropped["no_code"] == 1
    cot, letter_program, value_program = examples
    rendered = [tok.apply_chat_template(ex["prompt"], tokenize=False, add_generation_prompt=True) for ex in examples]
    # Each example's prompt is the text predict sends for its method (and program style).
    assert rendered[0] == prompts.render_prompt(tok, p, q)
    assert rendered[1] == prompts.render_program_prompt(tok, p, q, "letter")
    assert rendered[2] == prompts.render_program_prompt(tok, p, q, "value") != rendered[1]
    # A program's completion is its fenced block alone (predict stops at the closing fence): no answer line.
    assert letter_program["completion"][0]["content"] == prompts.program_completion(code)
    assert value_program["completion"][0]["content"] == "```python\nprint(1 + 1)\n```"
    assert cot["completion"][0]["content"].endswith(prompts.answer_line(q.answer))
    # Without a chat template the strings are the same texts.
    plain, _ = sft_data.build_examples(problems[:1], sft_data.load_rationales(tmp_path / "r.jsonl"),
                                       conversational=False, tokenizer=tok)
    assert plain[1]["prompt"] == rendered[1] and plain[1]["completion"] == prompts.program_completion(code)
    bad = write_jsonl(tmp_path / "bad.jsonl", [{**rows[1], "method": "prose"}])
    with pytest.raises(sft_data.RationaleError, match=r"bad.jsonl:1: method must be one of cot, program"):
        sft_data.load_rationales(bad)


def test_examples_without_rationales_are_answer_only(problems_file):
    examples, report = sft_data.build_examples(data.load_problems(problems_file))
    assert report.examples == report.answer_only == 16
    assert all(ex["completion"][0]["content"] == f"答案是：{ex['answer']}" for ex in examples)


def test_rationale_rules_and_drop_counts(problems_file):
    problems = data.load_problems(problems_file)
    p0, p1 = problems[0], problems[1]
    other = next(x for x in "AB" if x != p0.questions[1].answer)
    rats = [
        sft_data.Rationale(p0.id, 0, "一步。\n答案是：" + p0.questions[0].answer),  # kept, line stripped
        sft_data.Rationale(p0.id, 0, "另一种推理。"),  # second rationale, same question: kept too
        sft_data.Rationale(p0.id, 1, "错的推理。", answer=other),  # disagrees with the label
        sft_data.Rationale(p1.id, 0, "   "),  # blank
        sft_data.Rationale("not_in_data", 0, "别的数据。"),  # ignored, counted
    ]
    examples, report = sft_data.build_examples(problems, rats)
    assert report.with_rationale == 2
    assert report.dropped == {"rationale_disagrees": 1, "empty_rationale": 1, "no_rationale": 13}
    assert report.ignored_rationales == 1
    assert [ex["completion"][0]["content"] for ex in examples] == [
        f"一步。\n答案是：{p0.questions[0].answer}", f"另一种推理。\n答案是：{p0.questions[0].answer}"]
    # answer_only keeps the questions that have no rationale, as answer-only examples.
    examples, report = sft_data.build_examples(problems, rats, missing_rationale="answer_only")
    assert report.with_rationale == 2 and report.answer_only == 13
    assert all("no_rationale" not in line for line in report.lines())


def test_rationale_file_that_does_not_match_the_data(tmp_path, problems_file):
    problems = data.load_problems(problems_file)
    wrong = write_jsonl(tmp_path / "wrong.jsonl", [{"id": "other_1", "question_index": 0, "rationale": "x"}])
    with pytest.raises(sft_data.RationaleError, match="none of the 1 rationale"):
        sft_data.build_examples(problems, sft_data.load_rationales(wrong))
    out_of_range = write_jsonl(tmp_path / "oor.jsonl",
                               [{"id": "syn_000", "question_index": 7, "rationale": "x"}])
    with pytest.raises(sft_data.RationaleError, match=r"syn_000#7 \(problem has 2 question"):
        sft_data.build_examples(problems, sft_data.load_rationales(out_of_range))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "syn_000", "rationale": "x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(sft_data.RationaleError,
                       match=r"(?s)2 bad line\(s\).*:1: missing field\(s\) question_index"):
        sft_data.load_rationales(bad)


def test_length_filter_reports_what_it_dropped(tiny_model_dir, problems_file):
    from logictune.models import load_tokenizer

    tok = load_tokenizer(str(tiny_model_dir))
    examples, report = sft_data.build_examples(data.load_problems(problems_file))
    sizes = sorted(n for _, n in sft_data.count_tokens(examples, tok))
    limit = sizes[len(sizes) // 2]
    kept = sft_data.filter_by_length(examples, tok, limit, report)
    assert len(kept) == sum(1 for n in sizes if n <= limit) == report.examples
    assert report.dropped["too_long"] == len(sizes) - len(kept) > 0
    assert f"max_length={limit}" in "\n".join(report.lines())
    assert all(ex["n_tokens"] <= limit for ex in kept)


# ---------------------------------------------------------------- config


def test_config_layers_and_unknown_keys(tmp_path):
    cfg = tr.load_config(CONFIGS / "tiny-test.yaml", ["lora.alpha=32", "lr=5e-4"],
                         **{"lora.r": 16, "lr": 1e-5})
    assert (cfg.lora.r, cfg.lora.alpha, cfg.lr, cfg.max_steps) == (16, 32, 1e-5, 4)  # flags win over --set
    with pytest.raises(tr.ConfigError, match="unknown config key 'lora.rank'.*did you mean 'lora.r'"):
        tr.load_config(None, ["lora.rank=4"])
    with pytest.raises(tr.ConfigError, match="unknown config key 'learning_rat'.*did you mean"):
        tr.load_config(None, ["learning_rat=1e-4"])
    f = tmp_path / "c.yaml"
    f.write_text("max_lenght: 512\n", encoding="utf-8")
    with pytest.raises(tr.ConfigError, match=rf"'max_lenght' in {f}; did you mean 'max_length'"):
        tr.load_config(f)
    with pytest.raises(tr.ConfigError, match="expects key=value"):
        tr.load_config(None, ["lr"])
    with pytest.raises(tr.ConfigError, match="'batching'"):
        tr.load_config(None, ["batching=sometimes"])


def test_shipped_configs_load_and_the_cpu_one_is_the_default():
    for path in sorted(CONFIGS.glob("*.yaml")):
        tr.load_config(path)
    assert tr.load_config(CONFIGS / "qwen2.5-coder-0.5b-cpu.yaml") == tr.TrainConfig()
    gpu = tr.load_config(CONFIGS / "qwen2.5-7b-lora.yaml")
    assert gpu.attn_implementation == "flash_attention_2" and gpu.dtype == "bf16"


def test_accelerate_configs_load_with_accelerates_own_loader():
    """What `accelerate launch --config_file` does with them: unknown keys and bad values are errors there."""
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DistributedType

    loaded = {p.name: load_config_from_file(str(p)) for p in sorted((CONFIGS / "accelerate").glob("*.yaml"))}
    assert set(loaded) == {"deepspeed_zero2.yaml", "deepspeed_zero3.yaml", "fsdp.yaml"}
    for name in ("deepspeed_zero2.yaml", "deepspeed_zero3.yaml"):
        assert loaded[name].distributed_type == DistributedType.DEEPSPEED
        assert loaded[name].deepspeed_config["zero_stage"] == int(name[-6])
    assert loaded["deepspeed_zero3.yaml"].deepspeed_config["zero3_init_flag"] is True
    assert loaded["fsdp.yaml"].distributed_type == DistributedType.FSDP
    assert loaded["fsdp.yaml"].fsdp_config["fsdp_version"] == 2
    assert all(c.mixed_precision == "bf16" and c.num_processes == 8 for c in loaded.values())


# ---------------------------------------------------------------- labels


def test_labels_token_by_token_padded(tiny_model_dir, problems_file, rationales_file, tmp_path):
    cfg = tiny_config(tiny_model_dir, problems_file, tmp_path / "run", rationales=str(rationales_file),
                      batching="padding", pad_to_multiple_of=8, eval_fraction=0.0)
    trainer = tr.build_trainer(cfg, **QUIET)
    tok = trainer.processing_class
    problems = {p.id: p for p in data.load_problems(problems_file)}
    rows = [trainer.train_dataset[i] for i in range(3)]
    batch = trainer.data_collator(rows)
    assert batch["input_ids"].shape[1] % 8 == 0
    lengths = set()
    for i, row in enumerate(rows):
        p = problems[row["id"]]
        q = p.questions[row["question_index"]]
        prompt_ids, completion_ids = expected_tokens(tok, p, q, row["completion"][0]["content"])
        ids, labels = batch["input_ids"][i].tolist(), batch["labels"][i].tolist()
        n_prompt, n = len(prompt_ids), len(prompt_ids) + len(completion_ids)
        lengths.add(n)
        assert ids[:n] == prompt_ids + completion_ids
        for t, (token, label) in enumerate(zip(ids, labels, strict=True)):
            if t < n_prompt:
                assert label == -100, f"prompt token {t} carries a label"
            elif t < n:
                assert label == token, f"completion token {t} has label {label}, not its id"
            else:
                assert label == -100 and token == tok.pad_token_id and batch["attention_mask"][i, t] == 0
        trained_text = tok.decode([x for x in labels if x != -100])
        assert trained_text == row["completion"][0]["content"] + "<|im_end|>\n"
    assert len(lengths) > 1  # the batch really was padded


def test_labels_packed_rows_mask_every_prompt(tiny_model_dir, problems_file, rationales_file, tmp_path):
    cfg = tiny_config(tiny_model_dir, problems_file, tmp_path / "run", rationales=str(rationales_file),
                      batching="packing", max_length=1024, eval_fraction=0.0)
    trainer = tr.build_trainer(cfg, **QUIET)
    tok = trainer.processing_class
    expected = {}
    for p in data.load_problems(problems_file):
        for q in p.questions:
            completion = prompts.completion_text(q.answer, f"分析：因为条件，所以{q.options['ABCD'.index(q.answer)]}。")
            prompt_ids, completion_ids = expected_tokens(tok, p, q, completion)
            expected[tuple(prompt_ids + completion_ids)] = len(prompt_ids)
    rows = [trainer.train_dataset[i] for i in range(len(trainer.train_dataset))]
    assert len(rows) < 16 and all(sum(r["seq_lengths"]) <= 1024 for r in rows)  # several examples per row
    seen = 0
    for row in rows:
        batch = trainer.data_collator([row])
        ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
        start = 0
        for length in row["seq_lengths"]:
            seg_ids, seg_labels = ids[start:start + length], labels[start:start + length]
            n_prompt = expected[tuple(seg_ids)]
            assert all(x == -100 for x in seg_labels[:n_prompt])
            assert seg_labels[n_prompt:] == seg_ids[n_prompt:]
            start += length
            seen += 1
        assert batch["position_ids"][0].tolist() == [j for n in row["seq_lengths"] for j in range(n)]
    assert seen == 16


def test_packed_batch_gives_the_same_logits_as_separate_rows(tiny_model_dir):
    """Padding-free rows on CPU (SDPA): transformers derives a block-diagonal mask from position_ids.

    Only without a KV cache (trl passes use_cache=False in training); with one, the rows would see each other.
    """
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    g = torch.Generator().manual_seed(0)
    seqs = [torch.randint(3, 400, (n,), generator=g) for n in (17, 30, 9)]
    flat = torch.cat(seqs)[None]
    positions = torch.cat([torch.arange(len(s)) for s in seqs])[None]
    with torch.no_grad():
        packed = model(input_ids=flat, position_ids=positions, use_cache=False).logits[0]
        alone = torch.cat([model(input_ids=s[None]).logits[0] for s in seqs])
    torch.testing.assert_close(packed, alone, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("batching", ["packing", "padding"])
def test_our_loss_equals_trls(tiny_model_dir, problems_file, rationales_file, tmp_path, batching):
    """The loss that projects only labelled positions equals trl's chunked kernel, packed or padded."""
    from trl import SFTTrainer

    cfg = tiny_config(tiny_model_dir, problems_file, tmp_path / "run", rationales=str(rationales_file),
                      batching=batching, max_length=1024, eval_fraction=0.0)
    trainer = tr.build_trainer(cfg, **QUIET)
    assert type(trainer) is tr.CompletionLossTrainer and isinstance(trainer, SFTTrainer)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
    model = trainer.model.eval()
    with torch.no_grad():
        ours = trainer.compute_loss(model, dict(batch))
        theirs = SFTTrainer.compute_loss(trainer, model, dict(batch))
    assert trainer._fast_loss
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------- errors around a run


def test_empty_dataset_after_filtering_is_a_clear_error(tiny_model_dir, problems_file, tmp_path):
    cfg = tiny_config(tiny_model_dir, problems_file, tmp_path / "run", max_length=20)
    with pytest.raises(tr.EmptyDatasetError, match=r"no training examples left.*too_long.*--max-length"):
        tr.train(cfg, **QUIET)
    assert not (tmp_path / "run").exists()  # a run that cannot start leaves nothing to refuse later


def test_rationales_for_other_data_are_refused_before_training(tiny_model_dir, problems_file, tmp_path):
    wrong = write_jsonl(tmp_path / "r.jsonl", [{"id": "x9", "question_index": 0, "rationale": "..."}])
    cfg = tiny_config(tiny_model_dir, problems_file, tmp_path / "run", rationales=str(wrong))
    with pytest.raises(sft_data.RationaleError, match="is it the rationale file for this data"):
        tr.build_trainer(cfg, **QUIET)


def test_output_dir_rules(tiny_model_dir, problems_file, tmp_path):
    out = tmp_path / "run"
    cfg = tiny_config(tiny_model_dir, problems_file, out)
    assert train_run.check_output_dir(cfg) == ("fresh", None)
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(train_run.OutputDirError, match="holds no training run"):
        train_run.check_output_dir(cfg)
    (out / "notes.txt").unlink()
    (out / "config.yaml").write_text(tr.dump_config(cfg))
    with pytest.raises(train_run.OutputDirError, match="already holds this run; pass --resume"):
        train_run.check_output_dir(cfg)
    assert train_run.check_output_dir(cfg.model_copy(update={"resume": True, "max_steps": 9})) == ("resume", None)
    other = cfg.model_copy(update={"lr": 0.5})
    with pytest.raises(train_run.OutputDirError, match=r"holds a different run .*lr: 0.001 -> 0.5.*--overwrite"):
        train_run.check_output_dir(other)
    with pytest.raises(train_run.OutputDirError, match="cannot resume"):
        train_run.check_output_dir(other.model_copy(update={"resume": True}))
    assert train_run.check_output_dir(other.model_copy(update={"overwrite": True}))[0] == "overwrite"
    with pytest.raises(tr.ConfigError, match="contradict"):
        train_run.check_output_dir(cfg.model_copy(update={"overwrite": True, "resume": True}))


# ---------------------------------------------------------------- training runs


@pytest.fixture(scope="module")
def learnable_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny model with its final norm scaled up 8x.

    Its LM head is tied to 0.02-std embeddings and LoRA leaves both alone, so the random model's logits
    span about +-1: no adapter could make it confident. Scaled, the logits span a few units, as in a real
    model, and the adapter can memorise.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path_factory.mktemp("tiny-learnable")
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    with torch.no_grad():
        model.model.norm.weight.mul_(8.0)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def trained(learnable_model_dir, problems_file, heldout_file, rationales_file, tmp_path_factory):
    """30 steps on 16 rationale examples: enough for the tiny model to memorise much of them."""
    out = tmp_path_factory.mktemp("trained") / "run"
    cfg = tiny_config(learnable_model_dir, problems_file, out, rationales=str(rationales_file), max_steps=30,
                      lr=1e-2, eval_data=str(heldout_file), eval_steps=15, save_steps=15, logging_steps=2,
                      max_length=512, report_to=["tensorboard"], **{"lora.r": 8, "lora.alpha": 16})
    return tr.train(cfg, **QUIET)


def test_training_lowers_the_loss_on_a_memorisable_set(trained):
    losses = [h["loss"] for h in trained.trainer.state.log_history if "loss" in h]
    evals = [h["eval_loss"] for h in trained.trainer.state.log_history if "eval_loss" in h]
    assert trained.global_step == 30
    assert losses[-1] < 0.4 * losses[0], losses
    # Held-out problems of the same shape: the loss on them falls too (the rationale pattern is shared).
    assert evals[-1] < evals[0] and trained.eval_loss < evals[0], evals
    out = trained.output_dir
    for name in ("adapter_model.safetensors", "adapter_config.json", "tokenizer_config.json", "config.yaml",
                 "loss.png", "run.json", "trainer_state.json"):
        assert (out / name).exists(), name
    # report_to: tensorboard writes its event files offline, under the run directory.
    assert list(out.glob("runs/*/events.out.tfevents.*"))
    saved = tr.load_config(out / "config.yaml")
    assert saved.max_steps == 30 and saved.rationales.endswith("rationales.jsonl")
    assert json.loads((out / "run.json").read_text())["train"]["with_rationale"] == 16


def test_saved_adapter_gives_the_in_process_logits(trained, learnable_model_dir):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    ids = torch.tensor([[1, 20, 30, 40, 50, 60, 70]])
    model = trained.trainer.model.eval()
    with torch.no_grad():
        in_process = model(input_ids=ids).logits
        base = AutoModelForCausalLM.from_pretrained(learnable_model_dir, dtype=torch.float32)
        loaded = PeftModel.from_pretrained(base, trained.output_dir).eval()
        reloaded = loaded(input_ids=ids).logits
        plain_model = AutoModelForCausalLM.from_pretrained(learnable_model_dir, dtype=torch.float32)
        plain = plain_model(input_ids=ids).logits
    torch.testing.assert_close(reloaded, in_process, atol=1e-5, rtol=1e-5)
    assert (reloaded - plain).abs().max() > 1e-3  # the adapter does something


def test_merge_loads_in_plain_transformers_and_matches_the_adapter(trained, learnable_model_dir, tiny_model_dir,
                                                                   tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from typer.testing import CliRunner

    from logictune.cli import app

    out = tmp_path / "merged"
    result = CliRunner().invoke(app, ["merge", "--model", str(learnable_model_dir), "--adapter",
                                      str(trained.output_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "model.safetensors").exists() and not (out / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(out).eval()
    assert AutoTokenizer.from_pretrained(out).chat_template
    ids = torch.tensor([[1, 20, 30, 40, 50, 60, 70]])
    with torch.no_grad():
        base = AutoModelForCausalLM.from_pretrained(learnable_model_dir, dtype=torch.float32)
        adapter_logits = PeftModel.from_pretrained(base, trained.output_dir).eval()(input_ids=ids).logits
        torch.testing.assert_close(merged(input_ids=ids).logits, adapter_logits, atol=1e-4, rtol=1e-4)
    again = CliRunner().invoke(app, ["merge", "--model", str(learnable_model_dir), "--adapter",
                                     str(trained.output_dir), "--out", str(out)])
    assert again.exit_code == 1 and "--overwrite" in again.output
    # Same architecture, other weights: peft would merge it without a word; the recorded base says no.
    wrong = CliRunner().invoke(app, ["merge", "--model", str(tiny_model_dir), "--adapter",
                                     str(trained.output_dir), "--out", str(tmp_path / "wrong")])
    assert wrong.exit_code == 1 and "was trained on" in wrong.output, wrong.output
    assert not (tmp_path / "wrong").exists()


def test_merge_that_fails_leaves_the_old_output(trained, learnable_model_dir, tmp_path, monkeypatch):
    from logictune import models

    out = tmp_path / "merged"
    out.mkdir()
    (out / "model.safetensors").write_text("the previous merge")

    def boom(*a, **k):
        raise RuntimeError("out of memory half-way")

    monkeypatch.setattr(models, "load_model", boom)
    with pytest.raises(RuntimeError, match="half-way"):
        tr.merge(str(learnable_model_dir), trained.output_dir, out, overwrite=True)
    assert (out / "model.safetensors").read_text() == "the previous merge"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged"]  # no temporary folder left behind


class _Crash(Exception):
    pass


def _steps_callback():
    """A trainer callback that records the global step after every optimizer step it sees."""
    from transformers import TrainerCallback

    class Steps(TrainerCallback):
        def __init__(self):
            self.seen = []

        def on_step_end(self, args, state, control, **kw):
            self.seen.append(state.global_step)

    return Steps()


def test_resume_continues_from_the_saved_step(tiny_model_dir, problems_file, tmp_path):
    from transformers import TrainerCallback

    class CrashAt(TrainerCallback):
        def __init__(self, step):
            self.step = step

        def on_step_end(self, args, state, control, **kw):
            if state.global_step == self.step:
                raise _Crash

    out = tmp_path / "run"
    cfg = tiny_config(tiny_model_dir, problems_file, out, max_steps=6, save_steps=2, eval_fraction=0.0,
                      max_length=512)
    with pytest.raises(_Crash):
        tr.train(cfg, callbacks=[CrashAt(5)], **QUIET)
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    with pytest.raises(train_run.OutputDirError, match="pass --resume"):
        tr.train(cfg, **QUIET)
    steps = _steps_callback()
    result = tr.train(cfg.model_copy(update={"resume": True}), callbacks=[steps], **QUIET)
    assert result.resumed_from.endswith("checkpoint-4")
    assert steps.seen == [5, 6] and result.global_step == 6
    lines: list[str] = []
    longer = tr.train(cfg.model_copy(update={"resume": True, "max_steps": 7}), echo=lines.append)
    assert longer.global_step == 7
    assert any(line.startswith("warning: this resume changes max_steps 6 -> 7") for line in lines), lines

    # Same end point as a run that was never interrupted: same data order, same optimizer state.
    fresh = tr.train(cfg.model_copy(update={"output_dir": str(tmp_path / "fresh")}), **QUIET)
    from safetensors.torch import load_file

    a = load_file(out / "adapter_model.safetensors")
    b = load_file(Path(fresh.output_dir) / "adapter_model.safetensors")
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-6, rtol=1e-5)


def test_resuming_a_finished_run_takes_no_step_and_keeps_its_adapter(tiny_model_dir, problems_file, tmp_path):
    """A kill after the last checkpoint but before the caller noted the run finished (the recipe's case):
    the resume must not take a step past max_steps (transformers checks for the end only after a step),
    and writes the adapter of the last checkpoint again."""
    from safetensors.torch import load_file

    out = tmp_path / "run"
    cfg = tiny_config(tiny_model_dir, problems_file, out, max_steps=2, save_steps=1, eval_fraction=0.0,
                      max_length=512)
    assert tr.train(cfg, **QUIET).global_step == 2
    before = load_file(out / "adapter_model.safetensors")
    (out / "adapter_model.safetensors").unlink()  # killed before the final save
    steps, lines = _steps_callback(), []
    again = tr.train(cfg.model_copy(update={"resume": True}), callbacks=[steps], echo=lines.append)
    assert steps.seen == [] and again.global_step == 2 and again.resumed_from.endswith("checkpoint-2")
    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == 2
    assert any("nothing left to train" in line for line in lines), lines
    after = load_file(out / "adapter_model.safetensors")
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)


def test_torchrun_two_processes_equal_one_process_at_accumulation_2(tiny_model_dir, problems_file, tmp_path):
    """2 processes x 1 row per step (gloo, DDP) = 1 process x 2 micro-steps of 1 row: rank r gets the r-th
    batch of each pair, the loss is normalised over both ranks' tokens, DDP averages. Plain SGD without
    clipping, so the adapter after 3 steps is the sum of the 3 steps' gradients, scale included."""
    from safetensors.torch import load_file

    sgd = {"lr": 0.5, "max_steps": 3, "max_length": 512, "save_steps": 3, "report_to": "none",
           "trainer": {"optim": "sgd", "max_grad_norm": 0}}
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
           "logictune", "train", "-c", str(CONFIGS / "tiny-test.yaml"), "--model", str(tiny_model_dir),
           "--data", str(problems_file), "--output-dir", str(out), "--set", "grad_accum=1",
           *[x for k, v in sgd.items() for x in ("--set", f"{k}={json.dumps(v)}")]]
    # A session of its own, so a hung run is killed with its workers, not left behind.
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail("the 2-process run did not finish in 240 s:\n" + stdout[-2000:] + stderr[-2000:])
    assert proc.returncode == 0, stdout[-3000:] + stderr[-3000:]
    # world_size as the trainer's accelerator saw it (written by the trainer-side code, not by this test).
    assert json.loads((out / "run.json").read_text())["world_size"] == 2
    assert [p.name for p in out.glob("checkpoint-*")] == ["checkpoint-3"]
    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == 3
    assert stdout.count("done: 3 steps") == 1  # one process reports

    def lora_b(path):  # B starts at zero: after SGD it is minus lr times the summed gradients
        return {k: v for k, v in load_file(path / "adapter_model.safetensors").items() if "lora_B" in k}

    def one_process(name, accum):
        cfg = tiny_config(tiny_model_dir, problems_file, tmp_path / name, grad_accum=accum, **sgd)
        return lora_b(tr.train(cfg, **QUIET).output_dir)

    ddp = lora_b(out)
    assert _rel_err(ddp, one_process("accum2", 2)) < 1e-4
    # The test can tell: one process at accumulation 1 (what each rank would do if it trained alone) differs.
    assert _rel_err(ddp, one_process("accum1", 1)) > 1e-2  # measured ~0.1


def test_resume_changes_name_epochs_max_steps_and_processes(tiny_model_dir, problems_file, tmp_path):
    out = tmp_path / "run"
    cfg = tiny_config(tiny_model_dir, problems_file, out, max_steps=6)
    out.mkdir()
    (out / "config.yaml").write_text(tr.dump_config(cfg))
    (out / "run.json").write_text(json.dumps({"world_size": 2}))
    assert train_run.resume_changes(cfg, world_size=2) == []
    assert train_run.resume_changes(cfg.model_copy(update={"max_steps": 8, "epochs": 1.0}), world_size=1) == [
        f"epochs {cfg.epochs} -> 1.0", "max_steps 6 -> 8", "processes 2 -> 1"]


# ---------------------------------------------------------------- fixes from review (issue 10)


def test_attn_implementation_reaches_from_pretrained(tiny_model_dir, problems_file, tmp_path):
    cfg = tiny_config(tiny_model_dir, problems_file, tmp_path / "run")
    assert tr.load_base(cfg).config._attn_implementation == "sdpa"  # transformers' own choice
    eager = cfg.model_copy(update={"attn_implementation": "eager"})
    assert tr.load_base(eager).config._attn_implementation == "eager"


def test_trainer_section_goes_to_sftconfig_which_checks_it(tmp_path):
    cfg = tr.load_config(None, ["trainer.optim=sgd", "trainer.max_grad_norm=0"], output_dir=str(tmp_path))
    assert cfg.trainer == {"optim": "sgd", "max_grad_norm": 0}
    args = tr.sft_config(cfg, has_eval=False, max_length=512)
    assert (args.optim, args.max_grad_norm, args.learning_rate) == ("sgd", 0, cfg.lr)
    with pytest.raises(tr.ConfigError, match=r"unknown trainer setting 'trainer.optimm'.*'trainer.optim'"):
        tr.load_config(None, ["trainer.optimm=sgd"])
    with pytest.raises(tr.ConfigError, match=r"'trainer.learning_rate' .* set by the config key 'lr'"):
        tr.load_config(None, ["trainer.learning_rate=1e-3"])
    with pytest.raises(tr.ConfigError, match="'trainer' .* must be a mapping"):
        tr.load_config(None, ["trainer=sgd"])
    bad = tr.load_config(None, ["trainer.optim=no_such_optimizer"], output_dir=str(tmp_path))
    with pytest.raises(tr.ConfigError, match="SFTConfig refused"):
        tr.sft_config(bad, has_eval=False, max_length=512)


def test_eval_data_that_overlaps_the_training_data_is_refused(tiny_model_dir, problems_file, heldout_file,
                                                              tmp_path):
    from logictune.models import load_tokenizer

    tok = load_tokenizer(str(tiny_model_dir))
    same_text = synthetic_problems(1)[0] | {"id": "renamed"}  # another id, the same problem statement
    mixed = write_jsonl(tmp_path / "mixed.jsonl", synthetic_problems(12)[8:] + [same_text])
    for eval_file, n in ((problems_file, 8), (mixed, 1)):
        cfg = tiny_config(tiny_model_dir, problems_file, tmp_path / "run", eval_data=str(eval_file))
        with pytest.raises(tr.ConfigError, match=rf"shares {n} of its \d+ problem"):
            tr.build_datasets(cfg, tok)
    cfg = tiny_config(tiny_model_dir, problems_file, tmp_path / "run", eval_data=str(heldout_file))
    assert tr.build_datasets(cfg, tok).eval_report.problems == 4


def test_max_length_auto_keeps_every_example_and_says_so(tiny_model_dir, problems_file, rationales_file,
                                                         tmp_path):
    assert tr.TrainConfig().max_length == "auto"
    cfg = tiny_config(tiny_model_dir, problems_file, tmp_path / "run", rationales=str(rationales_file),
                      max_length="auto", eval_fraction=0.25)
    lines: list[str] = []
    trainer = tr.build_trainer(cfg, echo=lines.append)
    ds = trainer.logictune_data
    sizes = [n for _, n in sft_data.count_tokens(
        sft_data.build_examples(data.load_problems(problems_file), sft_data.load_rationales(rationales_file),
                                tokenizer=trainer.processing_class)[0], trainer.processing_class)]
    assert ds.max_length % 64 == 0 and max(sizes) <= ds.max_length < max(sizes) + 64
    assert trainer.args.max_length == ds.max_length  # packed rows are that long
    assert ds.report.examples + ds.eval_report.examples == 16 and not ds.report.dropped
    assert any("dropped 0: too_long" in line and f"max_length={ds.max_length}" in line and "auto" in line
               for line in lines), lines
    # A fixed limit below the longest example drops some, and the count is printed.
    short = cfg.model_copy(update={"max_length": sorted(sizes)[8], "eval_fraction": 0.0})
    lines.clear()
    dropped = tr.build_trainer(short, echo=lines.append).logictune_data.report.dropped["too_long"]
    assert dropped > 0 and any(f"dropped {dropped}: too_long" in line for line in lines)


def test_unknown_model_is_a_clear_error_in_train_and_merge(problems_file, tmp_path):
    from typer.testing import CliRunner

    from logictune.cli import app

    missing = str(tmp_path / "no-such-model.gguf")
    runs = {"train": ["train", "--model", missing, "--data", str(problems_file), "--output-dir",
                      str(tmp_path / "run")]}
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "elsewhere"}))
    runs["merge"] = ["merge", "--model", missing, "--adapter", str(adapter), "--out", str(tmp_path / "merged")]
    for name, argv in runs.items():
        result = CliRunner().invoke(app, argv)
        assert isinstance(result.exception, SystemExit) and result.exit_code == 1, (name, result.exception)
        assert "error: GGUF file not found" in result.output and "Traceback" not in result.output, name


class FirstStepGrads:
    """The LoRA gradients of the first optimizer step, as the optimizer gets them."""

    def __init__(self):
        from transformers import TrainerCallback

        outer = self
        self.grads: dict[str, torch.Tensor] = {}

        class Grab(TrainerCallback):
            def on_pre_optimizer_step(self, args, state, control, model=None, **kw):
                if not outer.grads:
                    outer.grads = {n: p.grad.detach().float().clone()
                                   for n, p in model.named_parameters() if p.grad is not None}

        self.callback = Grab()


def _rel_err(a: dict, b: dict) -> float:
    assert a.keys() == b.keys() and a
    va, vb = torch.cat([a[k].flatten() for k in sorted(a)]), torch.cat([b[k].flatten() for k in sorted(b)])
    return ((va - vb).norm() / vb.norm()).item()


def test_grad_accumulation_of_2_equals_one_batch_of_2_in_bf16(tiny_model_dir, problems_file, rationales_file,
                                                              tmp_path):
    """Loss normalisation over the whole accumulated batch (our loss's num_items_in_batch): 2 micro-steps
    of one packed row give the gradient of one step of 2 rows."""
    grads = {}
    for name, bs, accum in (("big batch", 2, 1), ("accumulated", 1, 2)):
        cfg = tiny_config(tiny_model_dir, problems_file, tmp_path / name, rationales=str(rationales_file),
                          dtype="bf16", max_length="auto", eval_fraction=0.0, max_steps=1, batch_size=bs,
                          grad_accum=accum, report_to="none", trainer={"max_grad_norm": 0})
        grab = FirstStepGrads()
        trainer = tr.build_trainer(cfg, callbacks=[grab.callback], save_strategy="no", **QUIET)
        assert len(trainer.train_dataset) >= 2
        trainer.train()
        grads[name] = grab.grads
    assert any(g.abs().max() > 0 for g in grads["big batch"].values())
    err = _rel_err(grads["accumulated"], grads["big batch"])
    assert err < 0.02, err  # bf16 autocast; a per-micro-step mean instead of the batch's would be ~0.1-1


# ---------------------------------------------------------------- the real model


@pytest.mark.slow
def test_real_model_two_steps_then_predict_with_the_adapter(real_train_file, tmp_path):
    from logictune import models

    try:
        models.resolve_model(models.DEFAULT_MODEL)
    except Exception as e:  # noqa: BLE001 - any failure to provide the model means: skip
        pytest.skip(f"the real model is not available: {e}")
    torch.set_num_threads(os.cpu_count() or 1)  # the module's one-thread rule is for the tiny model
    problems = data.load_problems(real_train_file)[:6]
    small = write_jsonl(tmp_path / "six.jsonl", [data.problem_to_dict(p) for p in problems])
    cfg = tr.load_config(CONFIGS / "qwen2.5-coder-0.5b-cpu.yaml", [], data=str(small),
                         output_dir=str(tmp_path / "run"), max_steps=2, max_length=512, eval_fraction=0.0,
                         grad_accum=1, **{"lora.r": 8})
    result = tr.train(cfg, **QUIET)
    assert result.global_step == 2 and result.train_loss is not None and result.train_loss < 20

    # Predict with the adapter, as `logictune predict --adapter RUN_DIR` does: load, engine, predict.
    from logictune import predict
    from logictune.engines import get_engine

    lm, tok = models.load_model(models.DEFAULT_MODEL, adapter=str(result.output_dir), device="cpu")
    assert type(lm).__name__.startswith("Peft")
    engine = get_engine("hf", lm, tok, batch_size=8)
    out = tmp_path / "pred.jsonl"
    predict.predict(problems[:2], engine, tok, out, predict.PredictConfig(method="direct"))
    answered = [q for line in out.read_text(encoding="utf-8").splitlines() for q in json.loads(line)["questions"]]
    assert len(answered) == sum(len(p.questions) for p in problems[:2])
    assert all(q["answer"] in "ABCDE"[: len(q["options"])] for q in answered)


def test_lora_top_layers_adapts_only_the_last_layers(tiny_model_dir):
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    cfg = tr.load_config(None, ["lora.top_layers=1"], model=str(tiny_model_dir))
    peft_model = get_peft_model(model, tr.lora_config(cfg, model))
    adapted = {n.split(".layers.")[1].split(".")[0] for n, p in peft_model.named_parameters() if "lora_" in n}
    assert adapted == {"1"}
    every = tr.lora_config(tr.load_config(None, [], model=str(tiny_model_dir)), model)
    assert every.layers_to_transform is None
    with pytest.raises(tr.ConfigError, match="needs the model"):
        tr.lora_config(cfg)


def test_resume_passes_over_a_checkpoint_a_kill_left_half_written(tmp_path):
    for step, files in ((1, {"trainer_state.json": "{}", "adapter_model.safetensors": "x"}),
                        (2, {"README.md": "x"}),  # killed while saving: no trainer_state.json yet
                        (3, {"trainer_state.json": '{"global_st'}),  # killed while writing it
                        (10, {})):  # empty
        (tmp_path / f"checkpoint-{step}").mkdir()
        for name, text in files.items():
            (tmp_path / f"checkpoint-{step}" / name).write_text(text)
    assert train_run.last_checkpoint(tmp_path) == str(tmp_path / "checkpoint-1")
    (tmp_path / "checkpoint-10" / "trainer_state.json").write_text("{}")
    assert train_run.last_checkpoint(tmp_path) == str(tmp_path / "checkpoint-10")  # by number, not by name
    assert train_run.last_checkpoint(tmp_path / "checkpoint-2") is None
