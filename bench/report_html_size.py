"""report.html at the test set's size: generate a run of N questions x K programs (or chains), write its
report and compare pages, and time them in headless chromium.

The questions are the real test set's (``../shared/data/round1_test_data.jsonl``: 500 problems, 1,328
questions) with seeded random gold letters; without it, generated problems of the same count. Each question
gets K samples: ``--method program`` programs of 300-1,500 characters (the 0.5B's real ones average 400) with a
status mix like a real run's (ok, error, unmatched, guess, no_code, timeout) and their stdout; ``--method cot``
chains of 700-1,400 Chinese characters (a 512-token chain). The second run for the compare page is the same
with other answers and other samples.

    taskset -c 1 .venv/bin/python bench/report_html_size.py --out-dir /tmp/report-bench --method program
    taskset -c 1 .venv/bin/python bench/report_html_size.py --out-dir /tmp/report-bench-cot --method cot

Load time is ``performance.now()`` when the page's script has drawn the first rows (``window.__reportReady``,
measured from navigation start: reading the file, parsing the HTML and the index, building the filters), the
median of ``--loads`` fresh loads; then when the chains and programs are inflated (``window.__reportWork``),
the time to filter to one family and to open one question.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import time
from pathlib import Path

from logictune import data
from logictune import evaluate as ev
from logictune import report_html as rh
from logictune import report_md as ev_report

TEST = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "round1_test_data.jsonl"
STATUSES = [("ok", 0.40), ("error", 0.30), ("unmatched", 0.18), ("guess", 0.05), ("no_code", 0.04), ("timeout", 0.03)]
HAN = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可也能下过子说产种面而方后多定行学法所"


def _problems(rng: random.Random, questions: int) -> list[dict]:
    if TEST.exists():
        records = [json.loads(line) for line in TEST.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        records = [{"id": f"gen_{i:04d}", "problem": "".join(rng.choices(HAN, k=180)),
                    "questions": [{"question": f"选择题 {j + 1}：" + "".join(rng.choices(HAN, k=30)),
                                   "options": ["".join(rng.choices(HAN, k=8)) for _ in range(4)]}
                                  for j in range(rng.choice([2, 3, 3, 4]))]} for i in range(500)]
    out, n = [], 0
    for r in records:
        qs = r["questions"][: questions - n]
        if not qs:
            break
        for q in qs:
            q["answer"] = rng.choice("ABCDEFGH"[: len(q["options"])])
        out.append({"id": r["id"], "problem": r["problem"], "questions": qs})
        n += len(qs)
    return out


def _program(rng: random.Random, letters: str) -> dict:
    status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
    body = ["```python", "# 定义事实和规则", "facts = {"]
    while sum(len(x) + 1 for x in body) < rng.randint(300, 1500):
        a, b = rng.sample(HAN, 2)
        body.append(f"    '{a}{b}': [{rng.randint(0, 99)}, {rng.randint(0, 99)}],  # {''.join(rng.choices(HAN, k=6))}")
    body += ["}", "for k, v in facts.items():", "    if sum(v) > 50:", "        print(k)", "```"]
    letter = rng.choice(letters)
    stdout = {"ok": f"{letter}\n", "unmatched": f"{rng.randint(0, 999)}\n", "guess": f"{letter}\n"}.get(status, "")
    return {"text": "\n".join(body), "answer": letter if status == "ok" else None, "logprob": -rng.random() * 40,
            "tokens": rng.randint(80, 384), "status": status, "matched": letter if status in ("ok", "guess") else None,
            "stdout": stdout, "error": "NameError" if status == "error" else None, "seconds": round(rng.random(), 3)}


def _chain(rng: random.Random, letters: str) -> dict:
    letter = rng.choice(letters + "-")
    text = "".join(rng.choices(HAN + "，。：1234567890", k=rng.randint(700, 1400)))
    return {"text": text + (f"\n答案是：{letter}" if letter != "-" else ""), "answer": None if letter == "-" else letter,
            "logprob": -rng.random() * 300, "tokens": rng.randint(300, 512)}


def _run(rng: random.Random, gold: list[dict], k: int, method: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    preds, details = [], []
    for p in gold:
        qs = []
        for i, q in enumerate(p["questions"]):
            letters = "ABCDEFGH"[: len(q["options"])]
            samples = [(_program if method == "program" else _chain)(rng, letters) for _ in range(k)]
            votes: dict[str, int] = {}
            for s in samples:
                if s["answer"]:
                    votes[s["answer"]] = votes.get(s["answer"], 0) + 1
            answer = max(sorted(votes), key=votes.get) if votes else rng.choice(letters)
            qs.append({**q, "answer": answer})
            details.append({"id": p["id"], "question_index": i, "method": method, "samples": samples, "votes": votes,
                            "answer": answer, "fallback": not votes, "fallback_method": None if votes else "direct",
                            "option_probs": None if votes else {c: 1 / len(letters) for c in letters}})
        preds.append({**p, "questions": qs})
    data.write_jsonl(folder / "pred.jsonl", preds)
    data.write_jsonl(folder / "pred.details.jsonl", details)
    return folder / "pred.jsonl"


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))


def _measure(page: Path, loads: int) -> dict:
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser = _browser()
    try:
        ready, work, steps = [], [], {}
        for _ in range(loads):
            browser.get("about:blank")
            browser.get(page.resolve().as_uri())
            WebDriverWait(browser, 60).until(lambda b: b.execute_script("return window.__reportReady"))
            ready.append(browser.execute_script("return window.__reportReady"))
            WebDriverWait(browser, 60).until(lambda b: b.execute_script("return window.__reportWork"))
            times = browser.execute_script("var t = performance.timing, T = window.__reportTimes; return ["
                                           "t.responseEnd - t.navigationStart, T.script, T.parsed, T.ready, T.work]")
            work.append(times[-1])
            print("  file read, script start, index parsed, first rows drawn, programs inflated (ms):",
                  ", ".join(f"{x:.0f}" for x in times))
        family = browser.execute_script("return document.querySelectorAll('#f-family option')[1].value")
        t = time.perf_counter()
        Select(browser.find_element("id", "f-family")).select_by_value(family)
        browser.execute_script("return document.getElementById('count').dataset.n")
        steps["filter_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        browser.find_element("css selector", "#tbody tr.q").click()
        browser.find_element("css selector", "tr.detail-row pre.text")
        steps["open_ms"] = (time.perf_counter() - t) * 1000
        heap = browser.execute_script("return performance.memory && performance.memory.usedJSHeapSize")
        return {"ready_ms": statistics.median(ready), "ready_all": ready, "work_ms": statistics.median(work),
                "heap_mb": heap and heap / 2**20, **steps}
    finally:
        browser.quit()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--questions", type=int, default=1328)
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--method", choices=("program", "cot"), default="program")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--no-browser", action="store_true", help="Only generate and write the pages.")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    gold = _problems(rng, args.questions)
    gold_path = args.out_dir / "gold.jsonl"
    args.out_dir.mkdir(parents=True, exist_ok=True)
    data.write_jsonl(gold_path, gold)
    a = _run(rng, gold, args.samples, args.method, args.out_dir / "run-a")
    b = _run(rng, gold, args.samples, args.method, args.out_dir / "run-b")
    print(f"questions {sum(len(p['questions']) for p in gold)}, {args.samples} {args.method} samples each; "
          f"details {a.with_suffix('.details.jsonl').stat().st_size / 2**20:.1f} MiB")
    t = time.perf_counter()
    ev_report.write_report(ev.evaluate(a, gold_path), args.out_dir / "report")
    print(f"evaluate --report (report.md, charts, report.html): {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    rh.compare(a, b, gold_path, args.out_dir / "compare.html")
    print(f"compare: {time.perf_counter() - t:.1f} s")
    for page in (args.out_dir / "report" / "report.html", args.out_dir / "compare.html"):
        line = f"{page.name}: {page.stat().st_size / 2**20:.2f} MiB"
        if not args.no_browser:
            m = _measure(page, args.loads)
            line += (f", ready {m['ready_ms']:.0f} ms (median of {args.loads}: "
                     f"{', '.join(f'{x:.0f}' for x in m['ready_all'])}), programs readable {m['work_ms']:.0f} ms, filter to one family {m['filter_ms']:.0f} ms, "
                     f"open a question {m['open_ms']:.0f} ms, JS heap {m['heap_mb'] or 0:.0f} MiB")
        print(line)


if __name__ == "__main__":
    main()
