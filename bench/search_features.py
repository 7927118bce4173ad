"""What spelling correction, facets and autocomplete cost on a real-sized index.

    python bench/search.py --posts 20000 --skip-live         # builds the database once (kept)
    python bench/search_features.py [--db /tmp/cairn-bench-search/cairn-20000.db] [--queries 60] [--reuse]

Works on a copy of a database built by bench/search.py (chat posts from the chitchat dataset,
the Python docs as articles, private channels and restricted spaces) with its own fresh index, as
a member of one private channel and one group. Queries are words of that index: well-spelt ones
(one and two words) and the same with a letter dropped (a typo). Prints per-call latency
percentiles of:

- ``search.query`` with ``exact=True`` (no spelling) and as the search page calls it (spelling
  on): the difference is what spelling costs on well-spelt and on misspelt queries;
- ``cairn.search.facets.facet_counts`` alone (the facet pass over every readable match);
- ``search.suggest`` (autocomplete) for 3- and 5-letter prefixes;
- how many typos were corrected back to the word they came from.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from sqlalchemy import select

from cairn import create_app, search
from cairn.auth import permissions as perm
from cairn.auth.models import User
from cairn.extensions import db
from cairn.search import spelling
from cairn.search.facets import facet_counts
from cairn.search.query import parse


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


def timed(fn, items) -> tuple[list[float], list]:
    times, out = [], []
    fn(items[0])  # warm
    for item in items:
        started = time.perf_counter()
        out.append(fn(item))
        times.append(time.perf_counter() - started)
    return times, out


def show(label: str, times: list[float]) -> None:
    ms = [t * 1000 for t in times]
    print(f"  {label:<44} n={len(ms):>3}  p50 {pct(ms, 50):7.1f} ms  p95 {pct(ms, 95):7.1f} ms  "
          f"mean {statistics.fmean(ms):7.1f} ms", flush=True)


def vocabulary(index, n: int, rng: random.Random) -> list[str]:
    """Readable-looking words of the index (as documents spell them), neither rare nor everywhere."""
    reader = index.searcher().reader()
    words = [w.decode() if isinstance(w, bytes) else w for w, info in
             ((t, reader.term_info("body", t)) for t in reader.lexicon("body"))
             if 20 <= info.doc_frequency() <= 2000]
    words = [w for w in words if w.isalpha() and 6 <= len(w) <= 12]
    rng.shuffle(words)
    surface = []
    for stem in words:
        form = spelling._surface_form(index.searcher(), stem, index.acl_filter(["public"]))
        if form.isalpha() and len(form) >= 6:
            surface.append(form)
        if len(surface) >= n:
            break
    return surface


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="/tmp/cairn-bench-search/cairn-20000.db")
    parser.add_argument("--workdir", default="/tmp/cairn-bench-features")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--reuse", action="store_true", help="keep the last run's copy and index")
    args = parser.parse_args()
    source = Path(args.db)
    if not source.exists():
        sys.exit(f"no database at {source}: run bench/search.py first (see --help)")
    work = Path(args.workdir)
    db_file = work / "cairn.db"
    reuse = args.reuse and (work / "indexed").exists()
    if not reuse:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        with sqlite3.connect(source) as src, sqlite3.connect(db_file) as dst:
            src.backup(dst)
    app = create_app({"instance": str(work / "instance"), "index_dir": str(work / "index"), "secret_key": "bench",
                      "database_url": f"sqlite:///{db_file}", "broker_url": "memory://", "rate_limits": False})
    rng = random.Random(7)
    with app.app_context():
        if reuse:
            print(f"index: {search.doc_count()} documents (reused)", flush=True)
        else:
            started = time.perf_counter()
            count = search.reindex()
            print(f"index: {count} documents, rebuilt in {time.perf_counter() - started:.1f}s", flush=True)
            (work / "indexed").write_text("ok\n")
        index = app.extensions["cairn.search"]
        user = db.session.scalar(select(User).where(User.email == "searcher@bench.example")) or \
            db.session.scalar(select(User).order_by(User.id))
        tokens = perm.search_tokens(user)
        print(f"searcher: {user.email} with {len(tokens)} ACL tokens", flush=True)
        words = vocabulary(index, args.queries, rng)
        pairs = [f"{a} {b}" for a, b in zip(words, words[1:] + words[:1])]
        typos = [w[:len(w) // 2] + w[len(w) // 2 + 1:] for w in words]

        def query(q, exact=False):
            return search.query(user, q, exact=exact)

        print("search.query (what the search page and the API call)")
        show("one word, exact (no spelling)", timed(lambda q: query(q, True), words)[0])
        show("one word, spelling on", timed(query, words)[0])
        show("two words, exact", timed(lambda q: query(q, True), pairs)[0])
        show("two words, spelling on", timed(query, pairs)[0])
        show("typo, exact (finds nothing)", timed(lambda q: query(q, True), typos)[0])
        times, pages = timed(query, typos)
        show("typo, spelling on (corrected)", times)
        fixed = sum(p.corrected_query == w or p.suggestion == w for p, w in zip(pages, words))
        print(f"  typos corrected back to their word: {fixed}/{len(words)}; "
              f"answered for some correction: {sum(bool(p.corrected_query) for p in pages)}/{len(words)}")
        print("parts")
        show("facet_counts, one word", timed(lambda q: facet_counts(index, parse(q), tokens), words)[0])
        show("facet_counts, two words", timed(lambda q: facet_counts(index, parse(q), tokens), pairs)[0])
        show("spell, one typo", timed(lambda q: spelling.spell(index, [q], tokens), typos)[0])
        print("autocomplete (search.suggest)")
        show("3-letter prefix", timed(lambda w: search.suggest(user, w[:3]), words)[0])
        show("5-letter prefix", timed(lambda w: search.suggest(user, w[:5]), words)[0])
        show("a word and a 3-letter prefix", timed(lambda p: search.suggest(user, p[:p.index(' ') + 4]), pairs)[0])
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
