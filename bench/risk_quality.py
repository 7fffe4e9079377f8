"""Precision and recall of the risk checks on the synthetic posts in tests/data/posts.

Run: .venv/bin/python bench/risk_quality.py [--show-errors]

Every post in clean.jsonl, risky.jsonl and hard.jsonl goes through beat.risk.check_post. Two
kinds of figure are printed:

- post level: a post is "flagged" if it has any hit, and "risky" if its expected list is not
  empty. This is what routes a post to the moderation desk.
- code level: for each reason code, a post counts as a true positive if the code was expected
  and raised, a false positive if raised but not expected, a false negative if expected but not
  raised. This is whether the desk is shown the right reasons.

clean.jsonl and risky.jsonl were used to tune the checks and are also the unit tests' must-pass
data; hard.jsonl holds the tricky cases, including documented known misses, so its figures are
the honest ones. Each set is reported on its own and all together.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from beat.risk import CODES, check_post  # noqa: E402  (runnable without installing the package)

DATA = ROOT / "tests" / "data" / "posts"
SETS = ("clean", "risky", "hard")


@dataclass
class Tally:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    posts: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, post: dict[str, Any], raised: set[str]) -> None:
        expected = set(post["expected"])
        self.posts += 1
        flagged, risky = bool(raised), bool(expected)
        label = "codes" if flagged == risky else ("post FP" if flagged else "post FN")
        if flagged and risky:
            self.tp["<post>"] += 1
        elif flagged:
            self.fp["<post>"] += 1
        elif risky:
            self.fn["<post>"] += 1
        for code in expected & raised:
            self.tp[code] += 1
        for code in raised - expected:
            self.fp[code] += 1
        for code in expected - raised:
            self.fn[code] += 1
        if raised != expected:
            self.errors.append(
                f"  {label:7} missing={sorted(expected - raised)} extra={sorted(raised - expected)}"
                f"\n          {post['text'][:110]}"
            )


def ratio(num: int, den: int) -> str:
    return f"{num / den:6.1%}" if den else "     -"


def report(title: str, tally: Tally, show_errors: bool) -> None:
    print(f"\n== {title}: {tally.posts} posts")
    print(f"{'':28} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>10} {'recall':>8}")

    def row(label: str, key: str) -> None:
        tp, fp, fn = tally.tp[key], tally.fp[key], tally.fn[key]
        print(f"{label:28} {tp:4} {fp:4} {fn:4} {ratio(tp, tp + fp):>10} {ratio(tp, tp + fn):>8}")

    row("post level (any hit)", "<post>")
    for code in CODES:
        if tally.tp[code] or tally.fp[code] or tally.fn[code]:
            row(code, code)
    tp = sum(v for k, v in tally.tp.items() if k != "<post>")
    fp = sum(v for k, v in tally.fp.items() if k != "<post>")
    fn = sum(v for k, v in tally.fn.items() if k != "<post>")
    label = "code level, all codes"
    print(f"{label:28} {tp:4} {fp:4} {fn:4} {ratio(tp, tp + fp):>10} {ratio(tp, tp + fn):>8}")
    if show_errors and tally.errors:
        print("disagreements:")
        print("\n".join(tally.errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-errors", action="store_true", help="list every disagreement")
    args = parser.parse_args()

    overall = Tally()
    tallies = {name: Tally() for name in SETS}
    for name in SETS:
        for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            post = json.loads(line)
            hits = check_post(
                post["text"], text_cy=post.get("text_cy"), photos_alt=post.get("photos_alt", ())
            )
            raised = {hit.code for hit in hits}
            tallies[name].add(post, raised)
            overall.add(post, raised)
    tuning = merge(tallies["clean"], tallies["risky"])
    report("clean + risky (tuning set, must-pass in tests)", tuning, False)
    report("hard (tricky cases incl. known misses)", tallies["hard"], args.show_errors)
    report("all posts", overall, False)


def merge(a: Tally, b: Tally) -> Tally:
    return Tally(a.tp + b.tp, a.fp + b.fp, a.fn + b.fn, a.posts + b.posts, a.errors + b.errors)


if __name__ == "__main__":
    main()
