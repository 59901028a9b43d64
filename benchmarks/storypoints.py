"""Point suggestions measured on public data: the 14 Jira projects of the Deep-SE study.

Run from the repository root:  python -m benchmarks.storypoints [--data ../shared/datasets/storypoints]

For each project, its train and validation rows go in through the same code as `teamops task import`
(finished tasks with points), its test rows as open tasks without points, and `teamops task suggest`'s
code suggests points for them. Printed per project: MAE and MdAE of the suggestions, the median
baseline computed here (the training rows' median for every test row), and the published MAE of
GPT2SP and Deep-SE after the 2022 correction (published.csv). Targets: median MAE over the 14 <= 1.80,
and below the median baseline in >= 10 projects. Skips with a message when the data is absent.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "storypoints"


def project(path: Path, work: Path) -> tuple[float, float, float, str, float]:
    """(MAE, MdAE, median baseline MAE, method chosen, seconds) of one project."""
    from teamops.config import Config
    from teamops.estimation.suggest import suggest
    from teamops.store.database import open_database
    from teamops.work.task_import import import_rows, read_rows

    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    buf = io.StringIO(newline="")
    out = csv.writer(buf)
    out.writerow(["key", "title", "description", "points", "status"])
    truth: dict[str, float] = {}
    train: list[float] = []
    for r in rows:
        test = r["split_mark"] == "test"
        points = float(r["storypoint"])
        out.writerow(
            [
                r["issuekey"],
                r["title"],
                (r["description"] or "")[:100_000],
                "" if test else r["storypoint"],
                "todo" if test else "done",
            ]
        )
        if test:
            truth[f"csv:{r['issuekey']}"] = points
        else:
            train.append(points)
    cfg = Config()
    db = open_database(work / f"{path.stem}.db")
    good, bad, source = read_rows(buf.getvalue(), cfg, {}, {})
    assert not bad, bad[:3]
    start = time.perf_counter()
    import_rows(db, cfg, good, source, path.name, "benchmark")
    found, choice = suggest(db, cfg, [])
    took = time.perf_counter() - start
    db.conn.close()
    errors = [abs(s.points - truth[s.key]) for s in found]
    assert len(errors) == len(truth)
    med = statistics.median(train)
    baseline = statistics.fmean(abs(v - med) for v in truth.values())
    return statistics.fmean(errors), statistics.median(errors), baseline, f"{choice.method}{choice.k or ''}", took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT)
    opts = parser.parse_args()
    published_path = opts.data / "published.csv"
    if not published_path.exists():
        print(f"skipped: no data at {opts.data} (the public story-point set is not part of this repository)")
        return
    with published_path.open(encoding="utf-8") as f:
        published = {r["project"]: r for r in csv.DictReader(f)}
    print(f"{'project':<20} {'MAE':>5} {'MdAE':>5} {'median':>6} {'GPT2SP':>6} {'DeepSE':>6}  {'chosen':<8} {'s':>5}")
    maes, wins = [], 0
    with tempfile.TemporaryDirectory(prefix="teamops-sp-") as tmp:
        for path in sorted(opts.data.glob("*.csv")):
            if path.name == "published.csv":
                continue
            mae, mdae, baseline, method, took = project(path, Path(tmp))
            pub = published.get(path.stem, {})
            maes.append(mae)
            wins += mae < baseline
            print(
                f"{path.stem:<20} {mae:>5.2f} {mdae:>5.2f} {baseline:>6.2f} {pub.get('gpt2sp_mae', ''):>6} "
                f"{pub.get('deepse_mae', ''):>6}  {method:<8} {took:>5.1f}"
            )
    print(
        f"median MAE over {len(maes)}: {statistics.median(maes):.2f} (target <= 1.80); below the median baseline in {wins} of {len(maes)} (target >= 10)"
    )


if __name__ == "__main__":
    main()
