"""letter_bias: fit on labelled questions, applied by predict where option likelihoods pick the answer."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from logictune import data, letter_bias, predict
from logictune.cli import app
from tests.test_predict import ScriptedEngine, _FakeTokenizer, write_problems


def test_prior_is_the_smoothed_log_frequency_of_gold_letters_per_option_count():
    items = [letter_bias.Labelled(4, x) for x in "AABBBBCD"] + [letter_bias.Labelled(2, x) for x in "AAAB"]
    fitted = letter_bias.fit(items, "prior")
    assert fitted.questions == {4: 8, 2: 4}
    assert fitted.bias[4] == pytest.approx([math.log(c / 12) for c in (3, 5, 2, 2)])
    assert fitted.bias[2] == pytest.approx([math.log(4 / 6), math.log(2 / 6)])
    # an option count it never saw is left alone
    assert fitted.apply([0.0, 1.0, 2.0]) == [0.0, 1.0, 2.0]


def test_matched_divides_out_the_models_own_lean():
    # The model always puts 0.7 on A; the gold letters are half A, half B. Matched pulls A down, B up;
    # prior alone would keep the model's A.
    items = [letter_bias.Labelled(2, x, [0.7, 0.3]) for x in "ABAB"]
    matched = letter_bias.fit(items, "matched")
    scores = [math.log(0.6), math.log(0.4)]
    assert matched.bias[2][1] > matched.bias[2][0]
    assert matched.apply(scores)[1] > matched.apply(scores)[0]
    prior = letter_bias.fit(items, "prior")
    assert prior.apply(scores)[0] > prior.apply(scores)[1]


def test_choose_weight_trusts_an_informative_model_and_drops_a_misleading_one():
    gold = "BBBBBBAACD"
    knows = [letter_bias.Labelled(4, x, [0.7 if y == x else 0.1 for y in "ABCD"]) for x in gold]
    assert letter_bias.choose_weight(knows).weight == 1.0
    assert letter_bias.accuracy(letter_bias.choose_weight(knows), knows) == 1.0
    # always confident in the letter after the gold one: worse than answering B every time
    misleads = [letter_bias.Labelled(4, x, [0.97 if y == "BCDA"["ABCD".index(x)] else 0.01 for y in "ABCD"])
                for x in gold]
    assert letter_bias.accuracy(letter_bias.fit(misleads, "prior", 1.0), misleads) == 0.0  # follows the model
    dropped = letter_bias.choose_weight(misleads, "prior")
    assert dropped.weight <= 0.25  # small enough that the prior decides every question
    assert letter_bias.accuracy(dropped, misleads) == 0.6  # the most frequent gold letter, B
    with pytest.raises(ValueError, match="weight must be within"):
        letter_bias.fit(knows, "prior", 1.5)


def test_matched_without_probabilities_names_what_is_missing():
    items = [letter_bias.Labelled(4, "A", [0.25] * 4), letter_bias.Labelled(4, "B")]
    with pytest.raises(ValueError, match="1 of the 2 4-option questions have none"):
        letter_bias.fit(items, "matched")
    with pytest.raises(ValueError, match="kind must be one of"):
        letter_bias.fit(items, "flat")


def test_save_load_round_trip_and_bad_files_name_the_field(tmp_path):
    fitted = letter_bias.fit([letter_bias.Labelled(4, x) for x in "ABBC"], "prior", 0.25)
    path = tmp_path / "bias.json"
    letter_bias.save(fitted, path)
    assert letter_bias.load(path) == fitted
    path.write_text(json.dumps({"kind": "prior", "bias": {"4": [0.0, 1.0]}}))
    with pytest.raises(ValueError, match="field 'bias' 4: needs 4 finite numbers"):
        letter_bias.load(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not a letter-bias file"):
        letter_bias.load(path)


def test_predict_direct_applies_the_bias_and_records_the_raw_probabilities(tmp_path):
    problems = data.load_problems(write_problems(tmp_path / "gold.jsonl", n_problems=2, questions=(1,)))
    engine = ScriptedEngine(lambda p, k: None, scores=[0.0, 2.0, 1.0, -1.0])
    plain, biased = tmp_path / "plain.jsonl", tmp_path / "biased.jsonl"
    predict.predict(problems, engine, _FakeTokenizer(), plain, predict.PredictConfig(method="direct"))
    bias = letter_bias.LetterBias("prior", {4: [0.0, 0.0, 1.5, 0.0]})
    predict.predict(problems, engine, _FakeTokenizer(), biased, predict.PredictConfig(method="direct", letter_bias=bias))
    rows = {name: [json.loads(x) for x in data.details_path(p).read_text().splitlines()]
            for name, p in (("plain", plain), ("biased", biased))}
    assert [r["answer"] for r in rows["plain"]] == ["B", "B"]
    assert [r["answer"] for r in rows["biased"]] == ["C", "C"]  # 1.0 + 1.5 beats 2.0
    assert rows["biased"][0]["option_probs"] == rows["plain"][0]["option_probs"]
    # the bias is a setting of the run: resuming with another (or none) is refused
    with pytest.raises(ValueError, match="letter_bias"):
        predict.predict(problems, engine, _FakeTokenizer(), biased, predict.PredictConfig(method="direct"))


def test_cli_fits_matched_from_a_direct_run_and_says_what_it_needs(tmp_path):
    gold = write_problems(tmp_path / "gold.jsonl", n_problems=4, questions=(1,))  # gold letters A B C D
    problems = data.load_problems(gold)
    direct = tmp_path / "direct.jsonl"
    predict.predict(problems, ScriptedEngine(lambda p, k: None), _FakeTokenizer(), direct,
                    predict.PredictConfig(method="direct"))
    out = tmp_path / "bias.json"
    runner = CliRunner()
    result = runner.invoke(app, ["letter-bias", "--gold", str(gold), "--pred", str(direct), "--out", str(out),
                                 "--weight", "1"])
    assert result.exit_code == 0, result.output
    fitted = letter_bias.load(out)
    assert fitted.kind == "matched" and fitted.questions == {4: 4} and fitted.weight == 1.0
    # the engine always favours B; gold letters are uniform, so B's term is the lowest
    assert min(range(4), key=fitted.bias[4].__getitem__) == 1
    result = runner.invoke(app, ["letter-bias", "--gold", str(gold), "--out", str(out)])
    assert result.exit_code != 0 and "need --pred" in result.output
    result = runner.invoke(app, ["letter-bias", "--gold", str(gold), "--out", str(out), "--kind", "prior", "--weight", "0"])
    assert result.exit_code == 0, result.output
    assert letter_bias.load(out).weight == 0.0
    result = runner.invoke(app, ["letter-bias", "--gold", str(gold), "--out", str(out), "--kind", "prior", "--weight", "half"])
    assert result.exit_code != 0 and "--weight: auto or a number from 0 to 1, got 'half'" in result.output


def test_cli_refuses_a_torn_details_file_and_leaves_it_as_it_was(tmp_path):
    gold = write_problems(tmp_path / "gold.jsonl", n_problems=2, questions=(1,))
    pred = tmp_path / "direct.jsonl"
    details = data.details_path(pred)
    torn = '{"id": "p0", "question_index": 0, "option_probs": {"A": 1.0}}\n{"id": "p1", "quest'
    details.write_text(torn)
    result = CliRunner().invoke(app, ["letter-bias", "--gold", str(gold), "--pred", str(pred),
                                      "--out", str(tmp_path / "b.json")])
    assert result.exit_code != 0 and "direct.details.jsonl:2: not JSON" in result.output
    assert details.read_text() == torn
