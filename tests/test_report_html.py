"""report_html: the data report.html embeds, compare's McNemar and flips, escaping of hostile model text, and
both pages in a real headless browser (skipped, with the reason, when chromium is not installed)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logictune import evaluate as ev
from logictune import report_html as rh
from logictune import report_md
from logictune.cli import app
from logictune.synth import census

NUM = "定义函数 f(x) 计算 x 的阶乘，另一个函数计算两个数的最大公约数。"
KIN = "张三是李四的父亲。李四是王五的母亲。父亲的父亲是祖父。兄弟姐妹有相同的父母。"
LST = "给定一个列表 [3, 1, 2]，对列表进行排序、反转，取第N个元素，求和。"
HOSTILE = ('```python\n# </script><script>window.__pwned=1</script><!-- <img src=x onerror="window.__pwned=2">\n'
           'print("是")\n```\n')
# (problem id, text, [(options, gold)]); families by census: numeric, kinship, lists.
GOLD = [("num", NUM, [(["1", "2", "6", "24"], "A"), (["1", "2", "6", "24"], "B")]),
        ("kin", KIN, [(["是", "否"], "A"), (["是", "否"], "B"), (["是", "否"], "A")]),
        ("lst", LST, [(["[1]", "[2]", "[3]", "[1, 2]"], "C")])]
# The program run (P) and the direct run (D): P right on num#0, kin#0, kin#2, lst#0; D on num#1, kin#0, lst#0.
P_ANSWERS = {"num": ["A", "D"], "kin": ["A", "A", "A"], "lst": ["C"]}
D_ANSWERS = {"num": ["B", "B"], "kin": ["A", "A", "B"], "lst": ["C"]}


def _prog(text: str, status: str, stdout: str, matched: str | None, error: str | None = None) -> dict:
    return {"text": text, "answer": matched if status == "ok" else None, "logprob": -3.14159, "tokens": 40,
            "status": status, "matched": matched, "stdout": stdout, "error": error, "seconds": 0.05}


P_DETAILS = {
    ("num", 0): {"samples": [_prog("print(fact(3) // 6 * 'A')", "ok", "A\n", "A"),
                             _prog("print(1/0)", "error", "", None, "ZeroDivisionError")],
                 "votes": {"A": 1}, "fallback": False},
    ("num", 1): {"samples": [_prog("x = [][0]", "error", "", None, "IndexError")], "votes": {}, "fallback": True,
                 "fallback_method": "direct", "option_probs": {"A": 0.1, "B": 0.2, "C": 0.3, "D": 0.4123456}},
    ("kin", 0): {"samples": [_prog(HOSTILE, "ok", "是\n</pre><b>stdout</b>\n", "A")], "votes": {"A": 1},
                 "fallback": False},
    ("kin", 1): {"samples": [_prog('print("A")', "guess", "A\n", "A")], "votes": {}, "fallback": True,
                 "fallback_method": "cot",
                 "fallback_samples": [{"text": "想一想……答案是：A", "answer": "A", "logprob": -1.0, "tokens": 12}]},
    ("kin", 2): {"samples": [_prog("print('A' if True else 'B')", "ok", "A\n", "A")], "votes": {"A": 1},
                 "fallback": False},
    ("lst", 0): {"samples": [_prog("while True: pass", "timeout", "", None)], "votes": {}, "fallback": True,
                 "fallback_method": "direct", "option_probs": {"A": 0.1, "B": 0.1, "C": 0.7, "D": 0.1}},
}


def _records(answers: dict | None) -> list[dict]:
    out = []
    for pid, text, qs in GOLD:
        questions = []
        for i, (options, gold) in enumerate(qs):
            answer = gold if answers is None else answers[pid][i]
            questions.append({"question": f"选择题 {i + 1}：{pid} 的问题 {i}？", "options": options, "answer": answer})
        out.append({"id": pid, "problem": text, "questions": questions})
    return out


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def runs(tmp_path: Path) -> dict:
    gold = _jsonl(tmp_path / "gold.jsonl", _records(None))
    p = _jsonl(tmp_path / "prog" / "pred.jsonl", _records(P_ANSWERS))
    _jsonl(tmp_path / "prog" / "pred.details.jsonl",
           [{"id": pid, "question_index": i, "method": "program", "answer": P_ANSWERS[pid][i], **row}
            for (pid, i), row in P_DETAILS.items()])
    (tmp_path / "prog" / "pred.run.json").write_text(json.dumps({"method": "program", "data": str(gold)}))
    d = _jsonl(tmp_path / "direct" / "pred.jsonl", _records(D_ANSWERS))
    _jsonl(tmp_path / "direct" / "pred.details.jsonl",
           [{"id": pid, "question_index": i, "method": "direct", "samples": [], "votes": {}, "answer": a,
             "fallback": False, "option_probs": {"A": 0.5, "B": 0.5}}
            for pid, answers in D_ANSWERS.items() for i, a in enumerate(answers)])
    return {"gold": gold, "prog": p, "direct": d, "dir": tmp_path}


def _embedded(page: str) -> dict:
    assert len(re.findall(r'<script type="[^"]+" id="(?:data|work)">', page)) == 2
    return rh.read_page(page)


def test_fixture_families_are_what_the_tests_assume():
    assert [census.tag_problem(t, []) for _, t, _ in GOLD] == ["numeric", "kinship", "lists"]


def test_page_data_holds_every_question_and_its_work(runs):
    page = rh.page_data([rh.load_run(runs["prog"])], rh.data.load_problems(runs["gold"]))
    qs = {f"{q['id']}#{q['qi']}": q for q in page["questions"]}
    assert list(qs) == ["num#0", "num#1", "kin#0", "kin#1", "kin#2", "lst#0"]
    assert page["problems"] == [NUM, KIN, LST]  # each problem's text once
    assert [q["problem"] for q in page["questions"]] == [0, 0, 1, 1, 1, 2]
    assert [q["family"] for q in page["questions"]] == ["numeric"] * 2 + ["kinship"] * 3 + ["lists"]
    assert [q["runs"][0]["correct"] for q in page["questions"]] == [True, False, True, False, True, True]
    assert [q["runs"][0]["status"] for q in page["questions"]] == [
        "ok", "fallback: error", "ok", "fallback: guess", "ok", "fallback: timeout"]
    n0 = qs["num#0"]["runs"][0]
    assert n0["programs"] == {"ok": 1, "error": 1} and n0["votes"] == {"A": 1} and n0["tokens"] == 80
    assert [s["stdout"] for s in n0["samples"]] == ["A\n", ""]
    assert n0["samples"][1]["error"] == "ZeroDivisionError" and n0["samples"][0]["logprob"] == -3.14
    k1 = qs["kin#1"]["runs"][0]
    assert k1["source"] == "cot" and k1["tokens"] == 52 and k1["fallback_samples"][0]["answer"] == "A"
    assert qs["num#1"]["runs"][0]["probs"]["D"] == 0.412
    assert qs["kin#0"]["runs"][0]["samples"][0]["text"] == HOSTILE  # kept as written, escaped only on the page


def test_question_status_for_each_method():
    assert rh.question_status(None) == "no details"
    assert rh.question_status({"method": "direct"}) == "direct"
    assert rh.question_status({"method": "cot", "fallback": False}) == "voted"
    assert rh.question_status({"method": "cot", "fallback": True}) == "fallback: no answer"
    assert rh.question_status({"method": "program", "fallback": True, "samples": []}) == "fallback: no samples"


def test_long_text_keeps_head_and_tail():
    text = "".join(f"{i:05d}" for i in range(3000))
    cut = rh._cap(text, 600)
    assert cut.startswith(text[:400]) and cut.endswith(text[-200:]) and "14400 characters cut" in cut
    assert rh._cap("short", 600) == "short"


def test_compare_figures_mcnemar_families_and_flips(runs):
    page = rh.page_data([rh.load_run(runs["prog"]), rh.load_run(runs["direct"])],
                        rh.data.load_problems(runs["gold"]))
    f = rh.compare_figures(page)
    assert f["mcnemar"] == {"only_a": 2, "only_b": 1, "p": 1.0}  # 2 vs 1 of 3: p = 2 * (1 + 3) / 8, capped
    assert f["right_to_wrong"] == ["num#0", "kin#2"] and f["wrong_to_right"] == ["num#1"]
    assert [a["correct"] for a in f["accuracy"]] == [4, 3] and f["differ"] == 3
    assert f["families"]["kinship"] == {"n": 3, "a": 2, "b": 1, "only_a": 1, "only_b": 0}
    assert f["families"]["numeric"] == {"n": 2, "a": 1, "b": 1, "only_a": 1, "only_b": 1}


def test_compare_cli_defaults_gold_to_the_recorded_data_and_writes_the_page(runs):
    out = runs["dir"] / "cmp" / "page.html"
    r = CliRunner().invoke(app, ["compare", str(runs["prog"].parent), str(runs["direct"].parent), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert f"gold: {runs['gold']}" in r.output
    assert "prog: accuracy 0.6667 (4/6)" in r.output and "direct: accuracy 0.5000 (3/6)" in r.output
    assert "McNemar: only A right 2, only B right 1, p = 1" in r.output
    page = out.read_text(encoding="utf-8")
    assert len(_embedded(page)["questions"]) == 6 and "num#0</a>" in page


def test_compare_without_gold_shows_where_answers_differ(runs):
    (runs["prog"].with_suffix(".run.json")).unlink()
    f = rh.compare(runs["prog"], runs["direct"], out=runs["dir"] / "c.html")
    assert f["gold_file"] is None and f["mcnemar"] is None and f["differ"] == 3
    assert all(q["runs"][0]["correct"] is None for q in _embedded((runs["dir"] / "c.html").read_text())["questions"])


def test_compare_refuses_runs_of_other_questions(runs):
    records = _records(D_ANSWERS)[:2]
    other = _jsonl(runs["dir"] / "other" / "pred.jsonl", records)
    r = CliRunner().invoke(app, ["compare", str(runs["prog"]), str(other), "--gold", str(runs["gold"]),
                                 "--out", str(runs["dir"] / "x.html")])
    assert r.exit_code == 1 and "missing from pred" in r.output and "'lst'" in r.output


def test_embed_json_cannot_end_its_script_block():
    hostile = {"t": "</script><script>alert(1)</script><!-- & \u2028\u2029", "s": "bad \ud800 surrogate"}
    text = rh.embed_json(hostile)
    assert not set("<>&\u2028\u2029") & set(text)
    back = json.loads(text)
    assert back["t"] == hostile["t"] and back["s"] == hostile["s"]


def test_evaluate_report_writes_a_self_contained_page_with_hostile_text_inert(runs):
    out = runs["dir"] / "report"
    r = CliRunner().invoke(app, ["evaluate", "--pred", str(runs["prog"]), "--gold", str(runs["gold"]),
                                 "--report", str(out)])
    assert r.exit_code == 0, r.output
    page = (out / "report.html").read_text(encoding="utf-8")
    # Three script elements (the index, the work, the page's script), each closed once: model text closed none.
    assert page.count("<script") == 3 and page.count("</script>") == 3
    assert "<script>window.__pwned" not in page and "<img src=x" not in page
    assert _embedded(page)["questions"][2]["runs"][0]["samples"][0]["text"] == HOSTILE
    # Self-contained: no fetch of anything (charts inlined), report.md's summary on top.
    assert not re.search(r'(src|href)="(?!data:|#)', page)
    assert page.count('src="data:image/png;base64,') == 4  # letters, by_options, calibration, answer_sources
    assert "<strong>Accuracy: 0.6667 (4/6)</strong>" in page


def test_markdown_to_html_escapes_and_inlines_images(tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG fake")
    md = "# T <b>\n\n**bold** `x<y`\n\n| a | b |\n|---|---|\n| <i> | 1.5% |\n\n![a.png](a.png)\n![gone.png](gone.png)\n"
    got = rh.markdown_to_html(md, tmp_path)
    assert "<h1>T &lt;b&gt;</h1>" in got and "<strong>bold</strong> <code>x&lt;y</code>" in got
    assert "<td>&lt;i&gt;</td>" in got and '<td class="num">1.5%</td>' in got
    assert 'src="data:image/png;base64,iVBORyBmYWtl"' in got and "<p>chart gone.png: not found</p>" in got


# ---------------------------------------------------------------- the pages in a real browser


def _browser():
    """A headless chromium through selenium and the system chromedriver, or skip saying what is missing."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("browser test: selenium not installed (pip install -e '.[dev]')")
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        pytest.skip("browser test: no chromium/chromedriver (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1300,900"):
        options.add_argument(arg)
    options.binary_location = binary
    browser = webdriver.Chrome(options=options, service=Service(driver))
    browser.implicitly_wait(10)  # a question's work is drawn once the programs are inflated
    return browser


def _open(browser, path: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(path.resolve().as_uri())
    WebDriverWait(browser, 20).until(lambda b: b.execute_script("return document.body.dataset.ready === '1'"))


def _rows(browser) -> list[str]:
    return browser.execute_script("return Array.from(document.querySelectorAll('#tbody tr.q'), t => t.dataset.key)")


def _choose(browser, select_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", select_id)).select_by_value(value)


def _expand(browser, key: str):
    browser.find_element("css selector", f'#tbody tr.q[data-key="{key}"]').click()
    return browser.find_element("css selector", f'#tbody tr.q[data-key="{key}"] + tr.detail-row')


def test_report_and_compare_pages_in_a_headless_browser(runs):
    browser = _browser()
    try:
        report = runs["dir"] / "report"
        report_md.write_report(ev.evaluate(runs["prog"], runs["gold"]), report)
        _open(browser, report / "report.html")
        assert browser.find_element("id", "count").text == "6 of 6 questions"
        _choose(browser, "f-family", "kinship")
        assert browser.find_element("id", "count").text == "3 of 6 questions"
        assert _rows(browser) == ["kin#0", "kin#1", "kin#2"]
        _choose(browser, "f-correct", "wrong")
        assert _rows(browser) == ["kin#1"]
        _choose(browser, "f-correct", "")
        _choose(browser, "f-program", "guess")
        assert _rows(browser) == ["kin#1"]
        browser.find_element("id", "f-reset").click()
        browser.find_element("id", "f-search").send_keys("阶乘")
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(browser, 5).until(lambda b: _rows(b) == ["num#0", "num#1"])
        browser.find_element("id", "f-reset").click()

        detail = _expand(browser, "num#0")
        stdouts = detail.find_elements("css selector", "pre.stdout")
        assert [s.text for s in stdouts] == ["A"] and stdouts[0].is_displayed()
        assert "ZeroDivisionError" in detail.text
        hostile = _expand(browser, "kin#0")
        assert browser.execute_script("return window.__pwned === undefined")
        assert "</script><script>window.__pwned=1</script>" in hostile.find_element("css selector", "pre.text").text
        assert hostile.find_element("css selector", "pre.stdout").text == "是\n</pre><b>stdout</b>"
        shot = runs["dir"] / "report.png"
        assert browser.save_screenshot(str(shot)) and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        page = runs["dir"] / "compare.html"
        rh.compare(runs["prog"], runs["direct"], runs["gold"], page)
        _open(browser, page)
        _choose(browser, "f-correct", "a")  # right -> wrong
        assert browser.find_element("id", "count").text == "2 of 6 questions"
        assert _rows(browser) == ["num#0", "kin#2"]
        detail = _expand(browser, "kin#2")
        assert len(detail.find_elements("css selector", ".run")) == 2
        assert detail.find_element("css selector", "pre.stdout").text == "A"
        browser.find_element("css selector", 'a.flip[data-key="num#1"]').click()
        assert _rows(browser) == ["num#1"]
        assert browser.find_elements("css selector", '#tbody tr.q[data-key="num#1"] + tr.detail-row')
        shot = runs["dir"] / "compare.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 1000
        assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        browser.quit()
