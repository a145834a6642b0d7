"""How long `casebook --help` and a few light commands take to start, beside `python -c pass`.

    .venv/bin/python bench/startup.py [--runs 15]

Every command is a fresh process, run in turn with the baseline (A B A B ...) after one
warm-up each, so a machine that speeds up or slows down affects both alike. Prints the
median and the spread of wall time, and the median minus the baseline: what Casebook adds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = [sys.executable, "-c", "pass"]
COMMANDS = {
    "casebook --help": ["--help"],
    "casebook --version": ["--version"],
    "casebook serve --help": ["serve", "--help"],
    "casebook secret-key": ["secret-key"],
}


def wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    print(f"{'command':<26} {'median':>9} {'min':>9} {'max':>9} {'over baseline':>14}")
    for label, casebook_args in COMMANDS.items():
        command = [sys.executable, "-m", "bot", *casebook_args]
        wall(BASELINE, env), wall(command, env)  # warm-up: the OS caches the files
        base, ours = [], []
        for _ in range(args.runs):
            base.append(wall(BASELINE, env))
            ours.append(wall(command, env))
        for name, times in (("python -c pass", base), (label, ours)):
            extra = statistics.median(times) - statistics.median(base)
            print(
                f"{name:<26} {statistics.median(times) * 1000:>7.1f}ms {min(times) * 1000:>7.1f}ms "
                f"{max(times) * 1000:>7.1f}ms {extra * 1000:>12.1f}ms"
            )
    print(f"\n{args.runs} runs each; goal: casebook --help under 300 ms")


if __name__ == "__main__":
    main()
