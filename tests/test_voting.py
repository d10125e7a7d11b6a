from __future__ import annotations

import math
import random
import re

import pytest

from logictune import prompts
from logictune.voting import (
    Sample,
    Vote,
    extract_answer,
    is_decided,
    leader_posterior,
    next_round_size,
    normalise_scores,
    pick_by_scores,
    vote,
)

CHAIN = "根据条件1，甲不在北京；由条件2可知乙在上海。\n因此丙在广州。\n"

EXTRACT_CASES = [
    # (text, n_options, expected)
    (CHAIN + "答案是：B", 4, "B"),
    (CHAIN + "答案是:C", 4, "C"),
    (CHAIN + "答案：D", 4, "D"),
    (CHAIN + "答案: A", 4, "A"),
    (CHAIN + "答案为 C。", 4, "C"),
    (CHAIN + "正确答案是D", 4, "D"),
    (CHAIN + "最终答案：B", 4, "B"),
    (CHAIN + "**最终答案**\n\n**C**", 4, "C"),
    (CHAIN + "故选A。", 4, "A"),
    (CHAIN + "所以，选择D。", 4, "D"),
    (CHAIN + "**答案是：B**", 4, "B"),
    (CHAIN + "**答案**：**C**", 4, "C"),
    (CHAIN + "答案是：（B）", 4, "B"),
    (CHAIN + "答案是 (D)", 4, "D"),
    (CHAIN + "答案：【A】", 4, "A"),
    (CHAIN + "答案是：Ｂ", 4, "B"),  # full-width letter
    (CHAIN + "答案是：选项C", 4, "C"),
    (CHAIN + "答案是C选项。", 4, "C"),
    (CHAIN + "答案是：B. 丙在广州", 4, "B"),
    (CHAIN + "答案是：$\\boxed{D}$", 4, "D"),
    (CHAIN + "答案是：A\n再检查一遍，条件3排除了A。\n答案是：C", 4, "C"),  # the last line wins
    (CHAIN + "答案是：B\n答案是：E", 4, "B"),  # out of range: skipped, the earlier valid one counts
    (CHAIN + "答案是：E", 4, None),
    (CHAIN + "答案是：E", 5, "E"),
    (CHAIN + "答案是：A或B", 4, None),  # hedged
    (CHAIN + "答案是：AB", 4, None),
    (CHAIN + "答案是：C\n再想想，答案是：BD", 4, None),
    (CHAIN + "答案是：A、C", 4, None),
    (CHAIN + "答案是A选项和B选项", 4, None),
    ("The answers are: A", 4, "A"),
    (CHAIN + "答案是：C\n不过也可能是别的，答案是：A或B", 4, None),  # last word hedges
    (CHAIN + "答案是A或B中的一个。进一步排除A。\n答案是：B", 4, "B"),
    (CHAIN + "答案是C，因为B不满足条件。", 4, "C"),  # a later letter in prose is not a second answer
    ("Condition 2 rules out C.\nThe answer is A.", 4, "A"),
    ("So the answer is b", 4, "B"),  # lowercase after an English marker
    ("Answer: (c)", 4, "C"),
    ("The final answer is **D**", 4, "D"),
    ("answer is Apple", 4, None),  # an English word, not option A
    (CHAIN + "答案是 Because 乙在上海", 4, None),
    ("The answer is a bit unclear here.", 4, None),  # the article "a"
    ("The answer isn't obvious.", 4, None),
    ("The answer is A or B.", 4, None),
    ("I'd say the answer is B because C fails.", 4, "B"),
    (CHAIN + "我们需要判断哪个选项正确。", 4, None),  # no marker, no lone letter
    (CHAIN + "这道题的答案是否唯一？需要检查。", 4, None),  # a marker that states nothing
    (CHAIN + "B", 4, "B"),  # lone final letter
    (CHAIN + "**B**\n\n", 4, "B"),
    (CHAIN + "C.", 4, "C"),
    (CHAIN + "E", 4, None),  # lone letter out of range
    (CHAIN + "B\n以上是分析。", 4, None),  # a lone letter that is not the last line
    ("", 4, None),
    # A hypothesis being refuted is not a claim: the earlier answer stands.
    ("答案是 A。…如果答案是B，那么矛盾", 4, "A"),
    (CHAIN + "假设答案是：C\n则乙说真话，矛盾。\n答案是：D", 4, "D"),
    (CHAIN + "若答案为B，与条件1矛盾。", 4, None),
    (CHAIN + "因为如果选A会矛盾，所以答案是B", 4, "B"),  # the conclusion follows the hypothesis
    # "答：B" answers; so does a sentence that opens with "选", but not a negated or conditional one.
    ("答：B", 4, "B"),
    (CHAIN + "答: C", 4, "C"),
    ("选C", 4, "C"),
    (CHAIN + "选D。", 4, "D"),
    (CHAIN + "我选B", 4, "B"),
    (CHAIN + "不能选C，因为丙在广州。", 4, None),
    (CHAIN + "如果选C，则矛盾。", 4, None),
    ("选择题 1：谁说了真话？", 4, None),
]


@pytest.mark.parametrize("text,n_options,expected", EXTRACT_CASES)
def test_extract_answer(text, n_options, expected):
    assert extract_answer(text, n_options) == expected


# ---------------------------------------------------------------- stopping agrees with extraction

# (chain as the model writes it, options, the letter generation stops on (None: runs to the end))
STOP_CASES = [
    (CHAIN + "答案是：B\n解释：乙在上海。", 4, "B"),
    (CHAIN + "答案是：A\n答案是：C\n", 4, "A"),  # stops at the first complete answer line
    (CHAIN + "答案是：A或B\n再排除A。\n答案是：B\n多余的话", 4, "B"),  # a hedge does not stop
    (CHAIN + "答案是：AB\n答案是：C。", 4, "C"),
    (CHAIN + "答案是：E\n答案是：D\n", 4, "D"),  # E is no option here: no stop on it
    (CHAIN + "答案是：E\n", 5, "E"),
    (CHAIN + "答案是：Apple\n", 4, None),
    (CHAIN + "答案是：**C**\n", 4, "C"),
    (CHAIN + "答案：（D）。后面", 4, "D"),
    (CHAIN + "答案是：B. 丙在广州", 4, "B"),
    (CHAIN + "如果答案是：B\n则矛盾。\n答案是：A\n", 4, "A"),  # a hypothesis does not stop
    (CHAIN + "答案是：A 或 B\n", 4, None),
    (CHAIN + "答案是：C", 4, None),  # ends without a line end: EOS ends it, not the stop
]


def streamed_stop(text: str, n_options: int) -> str | None:
    """Feed ``text`` piece by piece like a decoder; return the text kept when the stop regex first matches."""
    stop = re.compile(prompts.answer_stop_regex(n_options))
    for end in range(1, len(text) + 1):
        if stop.search(text[:end]):
            return text[:end]
    return None


@pytest.mark.parametrize("text,n_options,stop_letter", STOP_CASES)
def test_stopping_and_extraction_agree(text, n_options, stop_letter):
    kept = streamed_stop(text, n_options)
    if stop_letter is None:
        assert kept is None
        return
    assert kept is not None
    # What generation keeps is read as the letter the stop fired on: the two never disagree.
    assert extract_answer(kept, n_options) == stop_letter
    # And the stop came one character after the letter, never on the letter itself.
    assert kept.rstrip("\n。.* ）)").endswith(stop_letter)


def test_stop_strings_are_stops_of_the_regex():
    for n in (2, 4, 5):
        regex = re.compile(prompts.answer_stop_regex(n))
        for s in prompts.answer_stop_strings(n):
            text = CHAIN + s
            assert regex.search(text) and streamed_stop(text, n) == text
            assert extract_answer(text, n) == s.rstrip("\n。")[-1]
        assert not any(s.rstrip("\n。")[-1] > "ABCDE"[n - 1] for s in prompts.answer_stop_strings(n))


def test_extract_answer_rejects_bad_option_count():
    with pytest.raises(ValueError):
        extract_answer("答案是：A", 0)


# ---------------------------------------------------------------- vote


def s(answer, logprob=-1.0, tokens=10):
    return Sample(text=f"答案是：{answer}", answer=answer, logprob=logprob, tokens=tokens)


def test_mean_logprob():
    assert s("A", -5.0, 10).mean_logprob == -0.5
    assert s("A", 0.0, 0).mean_logprob == float("-inf")


def test_vote_majority():
    v = vote([s("B"), s("A"), s("B"), s(None), s("C")])
    assert v == Vote("B", {"A": 1, "B": 2, "C": 1}, 0.5)
    assert list(v.votes) == ["A", "B", "C"]


def test_vote_tie_goes_to_higher_mean_logprob_not_order():
    # A is listed first and its samples are less likely per token (-0.5, -0.3 vs -0.2, -0.2).
    samples = [s("A", -5.0, 10), s("A", -3.0, 10), s("C", -2.0, 10), s("C", -4.0, 20), s(None)]
    assert vote(samples).answer == "C"
    # The summed log-probs would favour A (-6 vs -9); the per-token mean is what counts.
    longer = [s("A", -6.0, 10), s("C", -9.0, 30)]  # means -0.6 and -0.3, sums -6 and -9
    assert vote(longer).answer == "C"
    for seed in range(20):
        shuffled = samples[:]
        random.Random(seed).shuffle(shuffled)
        assert vote(shuffled) == vote(samples)


def test_vote_tie_with_equal_logprobs_falls_back_to_letter():
    for order in ([s("D"), s("B")], [s("B"), s("D")]):
        assert vote(order).answer == "B"
        assert vote(order).agreement == 0.5


def test_vote_no_answers():
    assert vote([s(None), s(None)]) == Vote(None, {}, 0.0)
    assert vote([]) == Vote(None, {}, 0.0)


# ---------------------------------------------------------------- adaptive stopping


def test_decided_once_budget_is_spent():
    for budget in range(1, 8):
        for n_drawn in range(budget, budget + 3):
            for votes in ({}, {"A": 1}, {"A": 1, "B": 1}):
                if sum(votes.values()) <= n_drawn:
                    assert is_decided(votes, budget, n_drawn, confidence=None)


def test_decided_when_leader_cannot_be_caught():
    assert is_decided({"A": 3}, 5, 3, confidence=None)  # 3-0, two left: B can reach 2 at most
    assert not is_decided({"A": 2}, 5, 2, confidence=None)  # 2-0, three left: B could reach 3
    assert not is_decided({"A": 3, "B": 1}, 6, 4, confidence=None)  # gap 2, two left: could tie
    assert is_decided({"A": 3, "B": 1}, 5, 4, confidence=None)


def test_not_decided_on_a_tie_with_budget_left():
    assert not is_decided({"A": 2, "B": 2}, 5, 4)
    assert not is_decided({}, 5, 3)


def test_posterior_rule():
    assert leader_posterior(2, 0) == 1 - 0.5**3  # Beta(3, 1)
    assert leader_posterior(0, 0) == 0.5
    assert leader_posterior(3, 3) == 0.5
    assert math.isclose(leader_posterior(2, 1), 11 / 16)  # Beta(3, 2): 1 - I_{1/2}(3, 2)
    # 3-0 of 10: posterior 15/16 < 0.95; 4-0: 31/32 >= 0.95.
    assert not is_decided({"A": 3}, 10, 3)
    assert is_decided({"A": 4}, 10, 4)
    assert not is_decided({"A": 4}, 10, 4, confidence=None)
    assert not is_decided({"A": 1}, 10, 1, confidence=0.51)  # a single answered sample never suffices
    assert is_decided({"A": 2}, 10, 2, confidence=0.8)


def test_posterior_monotone():
    for runner_up in range(6):
        values = [leader_posterior(leader, runner_up) for leader in range(runner_up, runner_up + 15)]
        assert all(a < b for a, b in zip(values, values[1:], strict=False))
    for leader in range(6):
        values = [leader_posterior(leader, r) for r in range(10)]
        assert all(a > b for a, b in zip(values, values[1:], strict=False))
        assert all(0.0 < v < 1.0 for v in values)


def test_stopping_rejects_inconsistent_input():
    with pytest.raises(ValueError):
        is_decided({"A": 3}, 5, 2)  # more votes than samples
    with pytest.raises(ValueError):
        is_decided({"A": 1}, 5, 1, confidence=0.5)


def test_next_round_size():
    assert next_round_size({}, 10, 0, first_round=4) == 4
    assert next_round_size({}, 3, 0, first_round=4) == 3
    assert next_round_size({"A": 2}, 5, 2, first_round=4) == 1  # A=3 with 2 left
    assert next_round_size({"A": 1, "B": 1}, 5, 2, first_round=4) == 2  # A=3, B=1 with 1 left
    assert next_round_size({}, 5, 2, first_round=4) == 2  # none answered: 2-0 with 1 left
    assert next_round_size({"A": 2, "B": 2}, 5, 4, first_round=4) == 1  # capped at what is left
    assert next_round_size({"A": 3}, 5, 5, first_round=4) == 0
    assert next_round_size({"A": 3}, 5, 3, first_round=4) == 1  # already decided: still at least 1


def test_next_round_size_reaches_a_decision():
    # Drawing the suggested number, all for the leader, always decides the question under rule (b).
    for budget in range(1, 12):
        for n_drawn in range(1, budget):
            for leader in range(n_drawn + 1):
                for runner_up in range(min(leader, n_drawn - leader) + 1):
                    votes = {"A": leader, "B": runner_up} if runner_up else {"A": leader}
                    k = next_round_size(votes, budget, n_drawn, first_round=3)
                    assert 1 <= k <= budget - n_drawn
                    after = {**votes, "A": leader + k}
                    assert is_decided(after, budget, n_drawn + k, confidence=None)
                    if k > 1:  # and no smaller round would have
                        fewer = {**votes, "A": leader + k - 1}
                        assert not is_decided(fewer, budget, n_drawn + k - 1, confidence=None)


# ---------------------------------------------------------------- option likelihoods


def test_pick_by_scores():
    assert pick_by_scores([-2.0, -0.5, -1.0, -3.0]) == "B"
    assert pick_by_scores([-1.0, -3.0, -1.0]) == "A"  # tie: first
    assert pick_by_scores([-9.0, -3.0, -1.0, -1.0]) == "C"
    with pytest.raises(ValueError):
        pick_by_scores([])
    with pytest.raises(ValueError):
        pick_by_scores([float("nan"), -1.0])


def test_normalise_scores():
    probs = normalise_scores([math.log(0.2), math.log(0.1), math.log(0.1)])
    assert [round(p, 12) for p in probs] == [0.5, 0.25, 0.25]
    assert math.isclose(sum(normalise_scores([1000.0, 999.0, -1e9])), 1.0)  # no overflow
    assert normalise_scores([0.0, float("-inf")]) == [1.0, 0.0]
    with pytest.raises(ValueError):
        normalise_scores([])
    with pytest.raises(ValueError):
        normalise_scores([float("-inf"), float("-inf")])
