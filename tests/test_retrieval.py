"""Few-shot retrieval: BM25 over character n-grams, never the question's own problem, and the prompt that
training builds equals the one predict sends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logictune import data, predict, prompts, retrieval
from logictune import train as tr

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def problem(pid: str, text: str, answers: str = "A") -> dict:
    return {"id": pid, "problem": text,
            "questions": [{"question": f"选择题 {k + 1}：\n谁是{a}？", "options": ["甲", "乙", "丙"], "answer": a}
                          for k, a in enumerate(answers)]}


ROWS = [
    problem("cats", "三只猫住在三栋房子里，黑猫不住在红房子里，白猫住在蓝房子里。", "AB"),
    problem("cats_again", "三只猫住在三栋房子里，黑猫不住在红房子里，白猫住在蓝房子里。", "C"),  # same text
    problem("cats_2", "三只猫住在三栋房子里，花猫住在红房子里。", "B"),
    problem("trains", "两列火车从北京和上海同时出发，速度不同，在南京相遇。", "C"),
    problem("family", "张三是李四的父亲，李四是王五的母亲。", "A"),
]


def write(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def load(rows) -> list[data.Problem]:
    return [data.parse_problem(r)[0] for r in rows]


def test_terms_are_characters_and_bigrams():
    assert retrieval.terms("黑 猫x") == ["黑", "猫", "x", "黑猫", "猫x"]


def test_most_similar_first_and_never_the_own_problem():
    problems = load(ROWS)
    pool = retrieval.ShotPool(problems)
    cats = problems[0]
    shots = pool.shots(cats, 0, 2)
    # Its sibling question and the same statement under another id are its own problem: never shown.
    assert shots[0].problem.id == "cats_2" and len(shots) == 2
    assert all(s.problem.id not in ("cats", "cats_again") for s in shots)
    assert shots[0].answer == "B" and shots[0].question is problems[2].questions[0]
    # k beyond the pool: every other problem's question once; k 0: none.
    assert len(pool.shots(cats, 1, 99)) == 3 and pool.shots(cats, 1, 0) == []
    assert pool.shots(cats, 0, 2) == shots  # deterministic
    # A question from outside the pool whose statement is cats_2's: cats_2 is its own problem, cats is next.
    outside = load([problem("new", ROWS[2]["problem"])])[0]
    assert pool.shots(outside, 0, 1)[0].problem.id == "cats"
    with pytest.raises(ValueError, match="no question with an answer"):
        retrieval.ShotPool(load([{**ROWS[0], "questions": [{**ROWS[0]["questions"][0], "answer": None}]}]))


def test_shots_render_as_earlier_solved_turns():
    problems = load(ROWS)
    shot = prompts.Shot(problems[3], problems[3].questions[0], "C")
    messages = prompts.build_messages(problems[0], problems[0].questions[0], shots=[shot])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == prompts.user_message(problems[3], problems[3].questions[0])
    assert messages[2]["content"] == "答案是：C"
    assert messages[3]["content"] == prompts.user_message(problems[0], problems[0].questions[0])
    assert prompts.build_messages(problems[0], problems[0].questions[0])[1:] == messages[3:]


class RecordingEngine:
    """Scores every option 0 and keeps the prompts it was sent."""

    def __init__(self):
        self.prompts: list[str] = []

    def score_next_token(self, prompts_, candidates):
        self.prompts.extend(prompts_)
        return [[0.0] * len(c) for c in candidates]


def test_train_and_predict_render_the_same_few_shot_prompt(tiny_model_dir, tmp_path):
    from logictune.models import load_tokenizer

    train_file = write(tmp_path / "train.jsonl", ROWS)
    cfg = tr.load_config(CONFIGS / "tiny-test.yaml", [], model=str(tiny_model_dir), data=str(train_file),
                         output_dir=str(tmp_path / "run"), eval_fraction=0.0, few_shot=2,
                         few_shot_pool=str(train_file))
    tok = load_tokenizer(str(tiny_model_dir), padding_side="right")
    examples = tr.build_datasets(cfg, tok).train
    trained = {(ex["id"], ex["question_index"]): tok.apply_chat_template(ex["prompt"], tokenize=False,
                                                                         add_generation_prompt=True)
               for ex in examples}

    # predict --few-shot 2 --few-shot-pool train.jsonl, as the CLI builds it, on the same questions.
    pool = retrieval.ShotPool.from_file(train_file)
    engine = RecordingEngine()
    problems = data.load_problems(train_file)
    predict.predict(problems, engine, tok, tmp_path / "pred.jsonl",
                    predict.PredictConfig(method="direct", shots=lambda p, i: pool.shots(p, i, 2)))
    asked = [(p.id, i) for p in problems for i in range(len(p.questions))]
    assert len(engine.prompts) == len(asked) == len(trained)
    for key, sent in zip(asked, engine.prompts, strict=True):
        assert sent == trained[key] + prompts.ANSWER_PREFIX
        assert sent.count("<|im_start|>user") == 3  # two shots, then the question
    # Without shots the prompts are the zero-shot ones: the shots really are in there.
    assert trained[("cats", 0)] != prompts.render_prompt(tok, problems[0], problems[0].questions[0])


def test_training_pool_leaves_out_the_eval_side(tiny_model_dir, tmp_path):
    from logictune.models import load_tokenizer

    train_file = write(tmp_path / "train.jsonl", ROWS[2:])
    eval_file = write(tmp_path / "eval.jsonl", ROWS[:1])
    pool_file = write(tmp_path / "pool.jsonl", ROWS[:1] + ROWS[2:])  # holds the eval problem
    cfg = tr.load_config(CONFIGS / "tiny-test.yaml", [], model=str(tiny_model_dir), data=str(train_file),
                         eval_data=str(eval_file), output_dir=str(tmp_path / "run"), few_shot=3,
                         few_shot_pool=str(pool_file))
    ds = tr.build_datasets(cfg, load_tokenizer(str(tiny_model_dir), padding_side="right"))
    for ex in list(ds.train) + list(ds.eval):
        shown = "".join(m["content"] for m in ex["prompt"][1:-1])
        assert ROWS[0]["problem"] not in shown  # the eval problem is never a shot
