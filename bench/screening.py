"""Policy screening of long pasted texts: how long ``screen_for_policy`` takes on runs that once
made a pattern backtrack quadratically (the e-mail local part, credential labels), next to
ordinary prose of the same length, with the shipped config/policy.toml.

    python bench/screening.py [--repeat 5]

Prints the best of --repeat runs per text in milliseconds. The tests check what these texts are
screened to (tests/unit/test_policy.py), not how fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from cairn.config import load_policy
from cairn.curation.policy import screen_for_policy

TEXTS = {
    '"x-" x 20,000': "x-" * 20_000,
    '"1.1." x 10,000': "1.1." * 10_000,
    '"password_" x 4,000': "password_" * 4_000,
    '"x-" x 19,990 + a password': "x-" * 19_990 + " password: hunter22",
    "prose, 40,000 chars": ("Restart the api on the staging box, then mail ops@example.com "
                            "if the deploy still fails. ") * 400,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    policy = load_policy()
    print(f"{'text':<32} {'chars':>7} {'best ms':>9}")
    for label, text in TEXTS.items():
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            screen_for_policy(text, policy, source="bench")
            best = min(best, time.perf_counter() - started)
        print(f"{label:<32} {len(text):>7} {best * 1000:>9.1f}")


if __name__ == "__main__":
    main()
