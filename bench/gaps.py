"""Content-gap queries on a large search log: the curators' report, the daily chart series and the
candidate scorer's demand list, with and without the covering index ix_search_log_gaps.

    python bench/gaps.py [--searches 200000] [--questions 5000] [--database-url URL]

Fills a fresh instance (SQLite unless --database-url names an empty database) with searches over
90 days — a skewed mix of questions typed several ways, a third with no hits, half of the rest
clicked — then times each query (best of --repeat runs) and prints the figures.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from sqlalchemy import insert, text

from cairn import create_app
from cairn.auth import actions as auth
from cairn.cli import upgrade_database
from cairn.extensions import db
from cairn.models_base import utcnow
from cairn.search import gaps
from cairn.search.gaps import normalize_query
from cairn.search.models import SearchLog

WORDS = ["vpn", "setup", "printer", "jam", "expense", "policy", "holiday", "calendar", "laptop", "password", "reset", "wifi", "badge", "parking", "invoice", "payroll", "onboarding", "sso", "okta", "github", "access", "docker", "build", "deploy", "release", "oncall", "pager"]
VARIANTS = (lambda q: q, lambda q: q.upper() + "?", lambda q: " ".join(reversed(q.split())), lambda q: f'"{q}"',
            lambda q: f"{q} in:#it-help", lambda q: q.capitalize() + "!")


def _fill(n: int, questions: int, user_ids: list[int]) -> None:
    rng = random.Random(7)
    pool = [" ".join(rng.sample(WORDS, rng.randint(1, 3))) + f" q{i}" for i in range(questions)]
    now = utcnow()
    rows = []
    for _ in range(n):
        q = rng.choice(VARIANTS)(pool[min(int(rng.paretovariate(1.2)) - 1, questions - 1)])
        hits = 0 if rng.random() < 0.33 else rng.randint(1, 40)
        rows.append({"user_id": rng.choice(user_ids), "query": q, "normalized": normalize_query(q), "hits": hits,
                     "clicked": hits > 0 and rng.random() < 0.5,
                     "created_at": now - timedelta(seconds=rng.uniform(0, 90 * 86400))})
        if len(rows) == 5000:
            db.session.execute(insert(SearchLog), rows)
            rows = []
    if rows:
        db.session.execute(insert(SearchLog), rows)
    db.session.commit()


def _best(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def _measure(curator, repeat: int) -> dict[str, float]:
    since = utcnow() - timedelta(days=30)
    figures = {}
    figures["top_gaps(30 days, 20)"], top = _best(lambda: gaps.top_gaps(curator, since, 20), repeat)
    figures["daily_unanswered(30)"], _ = _best(lambda: gaps.daily_unanswered(curator, 30), repeat)
    figures["gap_report (page/API)"], _ = _best(lambda: gaps.gap_report(curator, 30, 20), repeat)
    figures["gap_terms(90 days)"], terms = _best(lambda: gaps.gap_terms(utcnow() - timedelta(days=90)), repeat)
    figures["_rows"] = len(terms)
    figures["_top"] = top[0].unanswered if top else 0
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--searches", type=int, default=200_000)
    parser.add_argument("--questions", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"instance": f"{tmp}/instance", "index_dir": f"{tmp}/index", "secret_key": "bench",
                          "database_url": args.database_url or f"sqlite:///{tmp}/cairn.db", "broker_url": "memory://"})
        with app.app_context():
            upgrade_database()
            curator = auth.create_user("curator@example.com", "correct-horse-battery", "Carla", "curator")
            users = [auth.create_user(f"u{i}@example.com", "correct-horse-battery", f"U{i}").id for i in range(20)]
            started = time.perf_counter()
            _fill(args.searches, args.questions, users)
            print(f"{db.engine.dialect.name}: {args.searches} searches over 90 days, {args.questions} questions, "
                  f"filled in {time.perf_counter() - started:.1f}s")
            with_index = _measure(curator, args.repeat)
            db.session.execute(text("DROP INDEX ix_search_log_gaps"))
            db.session.commit()
            without = _measure(curator, args.repeat)
            print(f"{'query (best of ' + str(args.repeat) + ')':28} {'ix_search_log_gaps':>18} {'no such index':>14}")
            for name in with_index:
                if not name.startswith("_"):
                    print(f"{name:28} {with_index[name] * 1000:16.1f}ms {without[name] * 1000:12.1f}ms")
            print(f"top gap unanswered {with_index['_top']} times; {with_index['_rows']} unanswered searches in 90 days")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
