"""Prints one line from schemathesis' JSON run report: generated cases and failures."""

import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    report = json.load(f)
cases = report["test_cases"]
operations = report.get("operations") or {}
print(
    f"cases {cases['generated']}, failures {cases['unique_failures']} unique "
    f"({cases['with_failures']} cases), errors {len(report.get('errors') or [])}, "
    f"{operations.get('tested', '?')} operations tested, "
    f"{report['running_time']:.0f} s, seed {report['seed']}"
)
