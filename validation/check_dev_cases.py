"""Vignette check: rank of the confirmed diagnosis in ten published cases.

Run by hand from the repository root:

    python validation/check_dev_cases.py [--priors DIR]

Prints, per case, the rank of the confirmed cause, the top three and the triage, then
the number of cases whose confirmed cause is in the top 3. These cases are held out:
they check the priors, they must never be used to tune them.
"""

from __future__ import annotations

import argparse
import json
import pathlib

import posterior_knee as pk

CASES = pathlib.Path(__file__).with_name("dev_cases.json")


def evaluate(kb: pk.KnowledgeBase | None = None) -> list[dict]:
    model = pk.Model(kb)
    rows = []
    for case in json.loads(CASES.read_text(encoding="utf-8"))["cases"]:
        dx = model.diagnose(case["findings"])
        causes = list(dx.ranking["cause"])
        rows.append({
            "case": case["id"],
            "expected": case["expected"],
            "rank": causes.index(case["expected"]) + 1,
            "probability": float(dx.ranking.set_index("cause").loc[case["expected"],
                                                                   "probability"]),
            "top3": causes[:3],
            "triage": dx.triage.level.value,
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--priors", help="folder of tuned priors (default: shipped)")
    args = parser.parse_args()
    kb = pk.load_knowledge_base(args.priors)
    rows = evaluate(kb)
    for r in rows:
        print(f"{r['case']:>4}  {r['expected']:<28} rank {r['rank']:>2}  "
              f"P={r['probability']:6.1%}  triage={r['triage']:<9}  top3={r['top3']}")
    top1 = sum(r["rank"] == 1 for r in rows)
    top3 = sum(r["rank"] <= 3 for r in rows)
    print(f"\nconfirmed cause ranked first: {top1}/{len(rows)}; in the top 3: "
          f"{top3}/{len(rows)}")


if __name__ == "__main__":
    main()
