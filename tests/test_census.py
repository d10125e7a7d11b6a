"""The family census: crafted texts per family, the hand-labelled real problems, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logictune import data
from logictune.cli import app
from logictune.synth import census

FIXTURE = Path(__file__).parent / "fixtures" / "families_labelled.jsonl"
# 60 problems of the test file the cues were never tuned on: random.Random("heldout-census").sample of its
# 500 indices, each labelled by hand from what the problem asks (ids and labels only, no problem text).
HELDOUT = Path(__file__).parent / "fixtures" / "families_heldout.jsonl"
HELDOUT_FLOOR = 0.70  # measured 46/60 = 0.767 when the labels were made
runner = CliRunner()

# One small made-up problem per family, in the data's own register.
CRAFTED = {
    "translation": ("有一个英文到德文的词汇表：\n1. the -> der\n2. dog -> Hund\n3. runs -> läuft\n根据这个词汇表，翻译以下句子：",
                    ["选择题 1：\n英文句子 \"the dog runs\" 翻译成德文是："]),
    "numeric": ("有一个函数用来计算两个数的最大公约数（GCD）：如果两个数相等，则最大公约数就是它本身。",
                ["选择题 1：\n12 和 18 的最大公约数是多少？"]),
    "lists": ("有一个函数可以反转一个列表，并删除列表中的重复元素。",
              ["选择题 1：\n列表 [1, 2, 2, 3] 反转并去重后的结果是什么？"]),
    "ordering": ("已知以下信息：\n1. 小明比小红高。\n2. 小红比小刚高。\n3. 小刚比小丽高。",
                 ["选择题 1：\n谁最高？", "选择题 2：\n小明是否比小丽高？"]),
    "kinship": ("在一个家族中：\n1. 张三是李四的父亲。\n2. 李四是王五的母亲。\n3. 赵六和李四是兄弟姐妹。",
                ["选择题 1：\n谁是王五的祖父？", "选择题 2：\n赵六是王五的叔叔还是阿姨？"]),
    "graph": ("有一个有向图，节点之间的边如下：\n1. 节点 a 连接到节点 b。\n2. 节点 b 连接到节点 c。",
              ["选择题 1：\n从节点 a 到节点 c 是否存在路径？"]),
    "rules": ("已知：老虎吃羊，羊吃草。如果一个动物吃另一个动物，那么它是捕食者。所有捕食者都是危险的。",
              ["选择题 1：\n谁是捕食者？", "选择题 2：\n羊是危险的吗？"]),
    "truth": ("岛上的居民要么是骑士要么是无赖。骑士总是说真话，无赖总是说谎。甲说：“乙是无赖。”乙说：“我们都是骑士。”",
              ["选择题 1：\n甲是骑士还是无赖？"]),
    "assignment": ("有三座房子，分别住着英国人、西班牙人和日本人，每个人养的宠物各不相同。\n1. 英国人不住在第一个位置。\n"
                   "2. 养狗的人住在第二个位置。\n3. 日本人没有养猫。",
                   ["选择题 1：\n谁养狗？"]),
    "other": ("有一个经典的汉诺塔问题：将圆盘从一根柱子移动到另一根柱子，大圆盘不能放在小圆盘上面。",
              ["选择题 1：\n移动 3 个圆盘最少需要几步？"]),
}


def test_families_are_the_agreed_names_in_order():
    assert list(census.FAMILIES) == ["translation", "numeric", "lists", "ordering", "kinship", "graph", "rules",
                                     "truth", "assignment", "other"]
    assert all(desc.strip() for desc in census.FAMILIES.values())


@pytest.mark.parametrize("family", list(CRAFTED))
def test_crafted_problem_gets_its_family(family):
    text, questions = CRAFTED[family]
    assert census.tag_problem(text, questions) == family, census.scores(text, questions)


def test_weak_evidence_and_ties_go_to_other():
    assert census.tag_problem("今天天气不错。", ["选择题 1：\n你同意吗？"]) == "other"
    assert census.tag_problem("", []) == "other"


def test_tagging_is_deaf_to_the_datas_variants():
    """Full-width colons and letters, markdown fences and bold headings do not change the family."""
    text, questions = CRAFTED["graph"]
    dressed = "```markdown\n**自然语言测试题：**\n" + text.replace("a", "ａ").replace(":", "：") + "\n```"
    assert census.tag_problem(dressed, [q.replace("：", ":") for q in questions]) == "graph"
    assert census.normalize("选择题 1：**ａ") == "选择题 1:a"


def test_census_counts_problems_questions_and_shares():
    problems = [{"id": f, "problem": t, "questions": [{"question": q} for q in qs]} for f, (t, qs) in CRAFTED.items()]
    result = census.census(problems)
    assert list(result["families"]) == list(census.FAMILIES)
    assert result["problems"] == len(CRAFTED)
    assert result["questions"] == sum(len(qs) for _, qs in CRAFTED.values())
    assert result["families"]["ordering"] == {"problems": 1, "questions": 2, "share": 2 / result["questions"]}
    assert sum(f["share"] for f in result["families"].values()) == pytest.approx(1.0)
    assert result["tags"] == [{"id": f, "family": f} for f in CRAFTED]


def _disagreements(labels: list[dict], by_id: dict) -> list[str]:
    """Each hand label the census tags otherwise, as 'id: labelled X, tagged Y'."""
    wrong = []
    for r in labels:
        p = by_id[r["id"]]
        got = census.tag_problem(p.problem, [q.question for q in p.questions])
        if got != r["family"]:
            wrong.append(f"{r['id']}: labelled {r['family']}, tagged {got}")
    return wrong


def test_agreement_with_hand_labels_on_real_problems(real_train_file):
    labels = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(labels) >= 80
    assert set(census.FAMILIES) - {r["family"] for r in labels} == set(), "every family is labelled at least once"
    by_id = {p.id: p for p in data.load_problems(real_train_file)}
    wrong = _disagreements(labels, by_id)
    agreement = 1 - len(wrong) / len(labels)
    assert agreement >= 0.90, f"agreement {agreement:.3f}; disagreements:\n" + "\n".join(wrong)


def test_agreement_on_held_out_labels_the_cues_never_saw():
    from tests.conftest import TEST_FILE

    if not TEST_FILE.exists():
        pytest.skip(f"{TEST_FILE} not found (the shared competition data sits beside the repo)")
    labels = [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    tuned = {json.loads(line)["id"] for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()}
    assert len(labels) >= 60 and len({r["id"] for r in labels}) == len(labels)
    assert not tuned & {r["id"] for r in labels}, "held-out ids must not be among the labels the cues were tuned on"
    assert {r["family"] for r in labels} <= set(census.FAMILIES)
    by_id = {p.id: p for p in data.load_problems(TEST_FILE)}
    wrong = _disagreements(labels, by_id)
    agreement = 1 - len(wrong) / len(labels)
    print(f"held-out census agreement {len(labels) - len(wrong)}/{len(labels)} = {agreement:.3f}")
    assert agreement >= HELDOUT_FLOOR, f"agreement {agreement:.3f}; disagreements:\n" + "\n".join(wrong)


def test_cli_families_prints_the_table_and_writes_tags(tmp_path):
    src = tmp_path / "tiny.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for i, fam in enumerate(("kinship", "lists", "kinship")):
            text, qs = CRAFTED[fam]
            f.write(json.dumps({"id": f"p{i}", "problem": text, "questions": [
                {"question": q, "options": ["甲", "乙"], "answer": "A"} for q in qs]}, ensure_ascii=False) + "\n")
    out = tmp_path / "families.jsonl"
    res = runner.invoke(app, ["data", "families", str(src), "--out", str(out)], terminal_width=200)
    assert res.exit_code == 0, res.output
    for cell in ("family", "problems", "questions", "share", "total", "other"):
        assert cell in res.output
    row = next(line for line in res.output.splitlines() if "kinship" in line)
    assert [cell.strip() for cell in row.split("│")[1:5]] == ["kinship", "2", "4", "80.0%"]
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == [
        {"id": "p0", "family": "kinship"}, {"id": "p1", "family": "lists"}, {"id": "p2", "family": "kinship"}]


def test_cli_families_reports_bad_records(tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text('{"id": "x", "problem": "", "questions": []}\n', encoding="utf-8")
    res = runner.invoke(app, ["data", "families", str(src)], terminal_width=200)
    assert res.exit_code == 1
    assert "bad.jsonl:1:" in res.output
