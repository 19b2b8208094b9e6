"""Vignette check: rank of the confirmed diagnosis in ten published cases.

Run by hand from the repository root:

    python validation/check_dev_cases.py [--priors DIR]

Prints, per case, the rank of the confirmed cause, the top three and the triage, then
the number of cases whose confirmed cause is in the top 3. With ``--interview`` it also
runs the interview on each case (answers from the case; anything the case does not
state is "don't know") and reports the questions asked and the top-3 figure reached.

These cases are held out: they check the priors, they must never be used to tune them.
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


def interview_report(kb: pk.KnowledgeBase) -> None:
    from posterior_knee.interview import Interview

    model = pk.Model(kb)
    hits, asked = 0, 0
    cases = json.loads(CASES.read_text(encoding="utf-8"))["cases"]
    for case in cases:
        interview = Interview(model)
        dx = interview.run(case["findings"])
        hit = case["expected"] in list(dx.ranking["cause"].head(3))
        hits += hit
        asked += interview.questions_asked
        print(f"{case['id']:>4}  interview: {interview.questions_asked:>2} questions, "
              f"top 3 {'hit ' if hit else 'miss'}  ({interview.stopped})")
    print(f"\ninterview: confirmed cause in the top 3 in {hits}/{len(cases)}; mean "
          f"{asked / len(cases):.1f} questions of {len(model.kb.evidence_ids)}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--priors", help="folder of tuned priors (default: shipped)")
    parser.add_argument("--interview", action="store_true",
                        help="also run the interview on each case (slow)")
    args = parser.parse_args()
    kb = pk.load_knowledge_base(args.priors)
    if args.interview:
        interview_report(kb)
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
