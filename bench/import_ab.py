"""Import A/B: the importer of two checkouts, side by side in one run, on the same file.

    git worktree add /tmp/ab-old <commit>
    .venv/bin/python bench/import_ab.py --before /tmp/ab-old [--after .] [--rows 1000000]
        [--seed 42] [--db both|postgresql|sqlite]

For each database, each tree in turn (before first) imports the synthetic ACLED file into a
fresh migrated database, as bench/import_bench.py's first import does, in its own process (the
two trees' `app` packages cannot share one). Prints one line per import: seconds and phases.
This machine is noisy: only figures from one run compare.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ONE = """
import json, sys
tree, kind, rows, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.path[:0] = [tree, tree + "/bench"]
import import_bench as ib
import app
from app.imports.service import ImportRequest, run_import
assert app.__file__.startswith(tree), app.__file__
report = run_import(ib.fresh_database(kind), ImportRequest(ib.synthetic(rows, seed), "acled"))
assert report.committed
print(json.dumps({"seconds": report.seconds, "phases": report.phases}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=ROOT)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", choices=["both", "postgresql", "sqlite"], default="both")
    args = parser.parse_args(argv)
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    for kind in kinds:
        for label, tree in (("before", args.before), ("after", args.after)):
            out = subprocess.run(
                [sys.executable, "-c", ONE, str(tree.resolve()), kind, str(args.rows),
                 str(args.seed)],
                check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            result = json.loads(out.strip().splitlines()[-1])
            phases = ", ".join(f"{k} {v:.1f}" for k, v in result["phases"].items())
            print(f"{kind} {label} ({tree}): {result['seconds']:.1f} s; {phases}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
