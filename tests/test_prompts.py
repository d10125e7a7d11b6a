from __future__ import annotations

from logictune import data, prompts


def _pq():
    q = data.Question("选择题 1:\n谁是第一名？", ["甲", "乙", "丙"], "B")
    return data.Problem("p0", "甲比乙快，乙比丙快。", [q]), q


def test_prompt_uses_the_chat_template_and_lists_lettered_options(tiny_model_dir):
    from logictune.models import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_model_dir))
    problem, question = _pq()
    text = prompts.render_prompt(tokenizer, problem, question)
    assert text.startswith("<|im_start|>system\n" + prompts.SYSTEM_PROMPT)
    assert text.endswith("<|im_start|>assistant\n")
    assert "A. 甲\nB. 乙\nC. 丙" in text and "谁是第一名？" in text
    assert "选择题 1:" not in text, "the numbered header is dropped, whichever colon it uses"
    assert prompts.render_direct_prompt(tokenizer, problem, question) == text + "答案是："


def test_base_model_without_template_gets_a_plain_layout():
    class Plain:
        chat_template = None

    problem, question = _pq()
    text = prompts.render_prompt(Plain(), problem, question)
    assert "<|im_start|>" not in text and text.endswith("解答：\n") and "C. 丙" in text


def test_completion_ends_with_the_answer_line():
    assert prompts.completion_text("B", "甲最快。") == "甲最快。\n答案是：B"
    assert prompts.completion_text("C") == "答案是：C"
