"""train --method grpo: the reward (programs run in the sandbox), its config, and a seeded GRPO run on a tiny
model whose mean reward must rise."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import textwrap
import uuid
from collections import Counter
from pathlib import Path

import pytest

from logictune import data, grpo, programs, prompts, train, train_run
from logictune.train_config import ConfigError, load_config
from tests.test_sandbox import FORK_BOMBS
from tests.tiny import build_tiny_qwen2

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
OPTIONS = ["6", "5", "7", "-1"]  # "有两个数 2 和 3。它们的和是多少？": the key is B


def fence(code: str) -> str:
    return prompts.program_completion(textwrap.dedent(code))


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


SUM_PROBLEM = {"id": "sum", "problem": "有两个数 2 和 3。",
               "questions": [{"question": "选择题 1：它们的和是多少？", "options": OPTIONS, "answer": "B"}]}


# ---------------------------------------------------------------- the reward


def test_parts_are_right_wrong_and_every_program_status():
    assert grpo.PARTS[:2] == ("right", "wrong")
    assert set(grpo.PARTS[2:]) == set(programs.STATUSES) - {"ok"}


def test_reward_of_each_part_and_its_log():
    reward = grpo.ProgramReward(guess_penalty=0.2, timeout_penalty=0.3,
                                limits=grpo.sandbox.Limits(timeout=1.0))
    completions = [
        fence("print(2 + 3)"),                      # right
        fence("print(2 * 3)"),                      # wrong (A)
        fence("print('B')"),                        # a constant guess, even though B is the key
        fence("while True:\n    pass"),             # timeout
        fence("1 / 0"),                             # error
        fence("print('banana')"),                   # unmatched
        "答案是：B",                                  # no code
        fence("print(2 + 3)"),                      # right again: cached, not run twice
    ]
    logged: dict[str, float] = {}
    try:
        rewards = reward([""] * len(completions), completions, key=["B"] * len(completions),
                         options=[OPTIONS] * len(completions), log_metric=logged.__setitem__)
        assert reward.pool.runs == 6 and reward.pool.hits == 1  # 7 programs, one sampled twice
    finally:
        reward.close()
    assert rewards == [1.0, 0.0, -0.2, -0.3, 0.0, 0.0, 0.0, 1.0]
    assert reward.counts == Counter({"right": 2, "wrong": 1, "guess": 1, "timeout": 1, "error": 1,
                                     "unmatched": 1, "no_code": 1})
    assert logged["programs/right"] == 2 / 8 and logged["programs/guess"] == 1 / 8
    assert {f"programs/{p}" for p in grpo.PARTS} <= set(logged)
    assert sum(logged[f"programs/{p}"] for p in grpo.PARTS) == pytest.approx(1.0)


def attacks(tmp_path: Path) -> dict[str, str]:
    """The sandbox's attack set (tests/test_sandbox.py) as sampled programs."""
    target = tmp_path / "pwned.txt"
    return {
        "loop": "while True:\n    pass",
        "memory": "x = bytearray(10**10)\nprint('B')",
        "flood": "import sys\nchunk = 'x' * 10**6\nfor _ in range(100):\n    sys.stdout.write(chunk)",
        **{f"fork-{k}": v for k, v in FORK_BOMBS.items()},
        "subprocess": f"import subprocess\nsubprocess.run(['touch', {str(target)!r}])\nprint(2 + 3)",
        "kill-parent": f"import os, signal\nos.kill({os.getpid()}, signal.SIGKILL)\nprint(2 + 3)",
        "kill-all": "import os, signal\nos.kill(-1, signal.SIGKILL)\nprint(2 + 3)",
        "write-out": f"open({str(target)!r}, 'w').write('x')\nprint(2 + 3)",
        "rmtree": f"import shutil\nshutil.rmtree({str(tmp_path)!r})\nprint(2 + 3)",
        "secret": "import os\nprint(os.environ.get('OPENAI_API_KEY'))\nprint(open('/proc/1/environ').read())",
        "network": "import socket\nsocket.create_connection(('127.0.0.1', PORT), timeout=1)\nprint(2 + 3)",
        "recursion": "import sys\nsys.setrecursionlimit(10**6)\nclass A:\n    def __repr__(self):\n"
                     "        return repr(self)\nrepr(A())",
        "big-file": "with open('big', 'wb') as f:\n    f.write(b'x' * (9 << 20))\nprint(2 + 3)",
    }


def test_malicious_programs_earn_nothing_and_harm_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-test-{uuid.uuid4().hex}")
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "data.jsonl").write_text("{}\n")
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            server.settimeout(0.3)
            codes = {k: v.replace("PORT", str(server.getsockname()[1])) for k, v in attacks(keep).items()}
            reward = grpo.ProgramReward(guess_penalty=0.1, timeout_penalty=0.1,
                                        limits=grpo.sandbox.Limits(timeout=2.0), workers=2)
            try:
                completions = [fence(c) for c in codes.values()]
                n = len(completions)
                rewards = reward([""] * n, completions, key=["B"] * n, options=[OPTIONS] * n)
                parts = dict(zip(codes, reward.judge(completions, ["B"] * n, [OPTIONS] * n), strict=True))
                # the run goes on: a good program after the attacks still earns its reward
                assert reward([""], [fence("print(2 + 3)")], key=["B"], options=[OPTIONS]) == [1.0]
            finally:
                reward.close()
            with pytest.raises(TimeoutError):  # no attack got a connection through
                server.accept()
        assert bystander.poll() is None, "an attack killed a process outside the sandbox"
    finally:
        bystander.kill()
        bystander.wait()
    # Nothing was earned by an attack: each is blocked, failed, timed out or cut (0 or the timeout penalty).
    assert all(r in (0.0, -0.1) for r in rewards), dict(zip(codes, rewards, strict=True))
    assert all(p not in ("right", "wrong", "guess") for p in parts.values()), parts
    assert parts["loop"] == "timeout" and parts["flood"] == "output_limit" and parts["memory"] == "memory", parts
    assert not (keep / "pwned.txt").exists() and (keep / "data.jsonl").read_text() == "{}\n"


# ---------------------------------------------------------------- config


def test_grpo_section_keys_are_checked(tmp_path):
    cfg = load_config(None, ["grpo.num_generations=8", "grpo.beta=0.04"], method="grpo")
    assert (cfg.method, cfg.grpo.num_generations, cfg.grpo.beta) == ("grpo", 8, 0.04)
    with pytest.raises(ConfigError, match="'grpo.num_generation'.*did you mean 'grpo.num_generations'"):
        load_config(None, ["grpo.num_generation=8"])
    with pytest.raises(ConfigError, match="'num_generations'.*did you mean 'grpo.num_generations'"):
        load_config(None, ["num_generations=8"])
    with pytest.raises(ConfigError, match="'grpo.max_new_tokens'"):
        load_config(None, ["grpo.max_new_tokens=64"])
    with pytest.raises(ConfigError, match="grpo.num_generations"):
        load_config(None, ["grpo.num_generations=1"])  # GRPO needs a group
    # trainer: holds GRPOConfig fields under method grpo, SFTConfig fields otherwise; our keys are ours
    assert load_config(None, ["trainer.top_p=0.9"], method="grpo").trainer == {"top_p": 0.9}
    with pytest.raises(ConfigError, match="not a field of trl's SFTConfig"):
        load_config(None, ["trainer.top_p=0.9"])
    with pytest.raises(ConfigError, match="'trainer.num_generations'.*'grpo.num_generations'"):
        load_config(None, ["trainer.num_generations=8"], method="grpo")
    with pytest.raises(ConfigError, match="'trainer.learning_rate'.*'grpo.lr'"):
        load_config(None, ["trainer.learning_rate=1e-5"], method="grpo")
    yaml_file = tmp_path / "grpo.yaml"
    yaml_file.write_text("method: grpo\ngrpo:\n  group_size: 4\n")
    with pytest.raises(ConfigError, match=f"'grpo.group_size' in {yaml_file}"):
        load_config(yaml_file)


def test_grpo_config_carries_the_yaml(tmp_path):
    yaml_file = tmp_path / "gpu.yaml"
    yaml_file.write_text(textwrap.dedent("""\
        method: grpo
        output_dir: runs/grpo
        dtype: fp32
        max_steps: 30
        grpo:
          num_generations: 8
          prompts_per_step: 4
          micro_batch: 16
          max_completion_length: 384
          temperature: 0.8
          beta: 0.04
          lr: 5.0e-6
          use_vllm: true
          vllm_mode: colocate
          vllm_gpu_memory_utilization: 0.4
          vllm_tensor_parallel_size: 2
        trainer:
          top_p: 0.95
          loss_type: grpo
    """))
    cfg = load_config(yaml_file)
    args = grpo.grpo_config(cfg)
    assert (args.use_vllm, args.vllm_mode, args.vllm_gpu_memory_utilization, args.vllm_tensor_parallel_size) \
        == (True, "colocate", 0.4, 2)
    assert (args.num_generations, args.max_completion_length, args.temperature, args.beta, args.learning_rate) \
        == (8, 384, 0.8, 0.04, 5e-6)
    assert (args.top_p, args.loss_type, args.max_steps, args.output_dir) == (0.95, "grpo", 30, "runs/grpo")
    # 4 groups of 8 a step in micro-batches of 16: 2 micro-steps, generated at once
    assert (args.per_device_train_batch_size, args.gradient_accumulation_steps, args.generation_batch_size) \
        == (16, 2, 32)
    assert args.remove_unused_columns is False  # the reward reads the key and options columns
    assert grpo.grpo_config(cfg, world_size=2).gradient_accumulation_steps == 1
    with pytest.raises(ConfigError, match="do not split into micro-batches"):
        grpo.grpo_config(cfg.model_copy(update={"grpo": cfg.grpo.model_copy(update={"micro_batch": 5})}))
    server = load_config(yaml_file, ["grpo.vllm_mode=server", "grpo.vllm_server_base_url=http://gpu1:8000"])
    args = grpo.grpo_config(server)
    assert (args.vllm_mode, args.vllm_server_base_url) == ("server", "http://gpu1:8000")


def test_prompts_are_predicts_program_prompts(tiny_model_dir, tmp_path):
    from logictune import models

    tokenizer = models.load_tokenizer(str(tiny_model_dir))
    real = write_jsonl(tmp_path / "real.jsonl", [SUM_PROBLEM, {**SUM_PROBLEM, "id": "nokey", "questions": [
        {"question": "选择题 1：？", "options": ["1", "2"]}]}])
    synth = write_jsonl(tmp_path / "synth.jsonl", [{**SUM_PROBLEM, "id": f"s{i}"} for i in range(5)])
    cfg = load_config(None, [], method="grpo", data=str(real), **{"grpo.synth_data": str(synth),
                                                                 "grpo.synth_limit": 3, "grpo.program_style": "value"})
    ds, report = grpo.build_prompts(cfg, tokenizer)
    assert report.questions == {"data": 1, "synth": 3} and report.no_key == 1 and report.synth_available == 5
    problem = data.load_problems(real)[0]
    assert ds[0]["prompt"] == prompts.render_program_prompt(tokenizer, problem, problem.questions[0], "value")
    assert (ds[0]["key"], ds[0]["options"], ds[0]["source"]) == ("B", OPTIONS, "data")
    assert [r["source"] for r in ds] == ["data", "synth", "synth", "synth"]
    with pytest.raises(ConfigError, match="no GRPO data"):
        grpo.build_prompts(load_config(None, [], method="grpo"), tokenizer)


# ---------------------------------------------------------------- a seeded run on a tiny task


@pytest.fixture(scope="module")
def sum_task(tmp_path_factory):
    """The tiny task: one question whose key a program prints (2 + 3), a tiny model that can write it, and
    an SFT adapter warm-started on three programs for it: right (print(2 + 3)), wrong (print(2 * 3)) and
    a constant guess (print(5)), so that its samples score some of the time.

    The tiny model is tests/tiny.py's (tiny_model_dir's builder), built with a tokenizer that also learnt the programs' text (the
    fixture's spends 27 byte-level tokens on one), and its final norm's gain raised 10x: its random
    embeddings are so small that its logits span about +-1.3, so no LoRA could make a token likelier than
    ~1% at temperature 1, and samples would never be a program."""
    import torch
    from transformers import AutoModelForCausalLM

    root = tmp_path_factory.mktemp("grpo-sum")
    codes = ["print(2 + 3)", "print(2 * 3)", "print(5)"]
    corpus = [{"id": "c", "problem": fence(c) + "<|im_end|>", "questions": []} for c in codes] * 5
    corpus.append({"id": "c", "problem": prompts.SYSTEM_PROMPT + prompts.PROGRAM_INSTRUCTIONS["letter"]
                   + "### 题目：### 问题：" + SUM_PROBLEM["problem"], "questions": SUM_PROBLEM["questions"]})
    model_dir = build_tiny_qwen2(root / "model", write_jsonl(root / "corpus.jsonl", corpus))
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    with torch.no_grad():
        model.model.norm.weight.mul_(10.0)
    model.save_pretrained(model_dir)
    problems = write_jsonl(root / "sum.jsonl", [SUM_PROBLEM])
    rationales = write_jsonl(root / "sum.programs.jsonl", [
        {"id": "sum", "question_index": 0, "rationale": fence(c), "method": "program"} for c in codes])
    sft = load_config(CONFIGS / "tiny-test.yaml", ["eval_fraction=0", "report_to=none", "lora.r=16",
                                                   "lora.alpha=16", "save_steps=1000", "logging_steps=10"],
                      model=str(model_dir), data=str(problems), rationales=str(rationales),
                      output_dir=str(root / "sft"), max_steps=80, lr=1e-2)
    train.train(sft, echo=lambda _: None)
    return model_dir, problems, root / "sft"


def sampled_reward(model_dir: Path, adapter: Path, problems: Path, n: int = 64, seed: int = 1):
    """Mean reward of n programs sampled as GRPO samples them (temperature 1), and their parts."""
    import torch

    from logictune import models

    model, tokenizer = models.load_model(str(model_dir), dtype="fp32", adapter=str(adapter))
    problem = data.load_problems(problems)[0]
    question = problem.questions[0]
    ids = tokenizer(prompts.render_program_prompt(tokenizer, problem, question), return_tensors="pt",
                    add_special_tokens=False)
    torch.manual_seed(seed)
    out = model.generate(**ids, do_sample=True, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=16,
                         num_return_sequences=n, pad_token_id=tokenizer.pad_token_id)
    texts = tokenizer.batch_decode(out[:, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    reward = grpo.ProgramReward()
    try:
        rewards = reward([""] * n, texts, key=[question.answer] * n, options=[question.options] * n)
    finally:
        reward.close()
    return sum(rewards) / n, reward.counts


def grpo_config_for(sum_task, out: Path, **flags):
    model_dir, problems, sft = sum_task
    sets = ["report_to=none", "logging_steps=1", "save_steps=5", "lr_scheduler=constant",
            "grpo.max_completion_length=16", "grpo.num_generations=8", "grpo.lr=1e-3", "grpo.timeout_penalty=0.1"]
    return load_config(CONFIGS / "tiny-test.yaml", sets, method="grpo", model=str(model_dir), data=str(problems),
                       output_dir=str(out), **{"grpo.adapter": str(sft), **flags})


def test_grpo_steps_raise_the_mean_reward(sum_task, tmp_path):
    model_dir, problems, sft = sum_task
    before, before_parts = sampled_reward(model_dir, sft, problems)
    # The warm start scores sometimes, and not always: every group has advantages to learn from.
    assert 0.1 < before < 0.6 and before_parts["right"] > 0 and before_parts["guess"] > 0, (before, before_parts)
    result = train.train(grpo_config_for(sum_task, tmp_path / "grpo", max_steps=10), echo=lambda _: None)
    assert isinstance(result, grpo.GrpoResult) and result.global_step == 10
    after, after_parts = sampled_reward(model_dir, tmp_path / "grpo", problems)
    assert after > before + 0.25, (before, before_parts, after, after_parts)
    assert after_parts["guess"] < before_parts["guess"] / 2, (before_parts, after_parts)  # the penalty bites
    assert after_parts["wrong"] < before_parts["wrong"] / 2, (before_parts, after_parts)
    # what the trainer logged: the reward and its parts per step
    logged = [r for _, r in result.rewards]
    assert len(logged) == 10 and sum(logged[-3:]) / 3 > logged[0], logged
    history = json.loads((tmp_path / "grpo" / "trainer_state.json").read_text())["log_history"]
    assert all(f"programs/{p}" in history[0] for p in grpo.PARTS)
    assert sum(result.parts.values()) == 10 * 8
    out = tmp_path / "grpo"
    assert (out / "adapter_model.safetensors").exists() and (out / "reward.png").stat().st_size > 0
    run = json.loads((out / "run.json").read_text())
    assert run["grpo"]["questions"] == {"data": 1} and run["fingerprint"]["adapter"]


def test_grpo_resumes_and_refuses_other_runs(sum_task, tmp_path):
    out = tmp_path / "grpo"
    cfg = grpo_config_for(sum_task, out, max_steps=5)
    first = train.train(cfg, echo=lambda _: None)
    assert first.global_step == 5 and (out / "checkpoint-5").is_dir()
    (out / "adapter_model.safetensors").unlink()  # as if killed after its last checkpoint
    with pytest.raises(train_run.OutputDirError, match="already holds this run; pass --resume"):
        train.train(cfg, echo=lambda _: None)
    more = cfg.model_copy(update={"resume": True, "max_steps": 7})
    said: list[str] = []
    resumed = train.train(more, echo=said.append)
    assert resumed.resumed_from == str(out / "checkpoint-5") and resumed.global_step == 7, said
    assert (out / "adapter_model.safetensors").exists()
    # another run's settings, or an SFT run, in the same directory: refused
    other = grpo_config_for(sum_task, out, max_steps=7, **{"grpo.beta": 0.04})
    with pytest.raises(train_run.OutputDirError, match="grpo.beta"):
        train.train(other.model_copy(update={"resume": True}), echo=lambda _: None)
    sft = cfg.model_copy(update={"method": "sft", "resume": True})
    with pytest.raises(train_run.OutputDirError, match="method"):
        train.train(sft, echo=lambda _: None)
