"""GitHub Copilot's usage reports as a stream of the GitHub source: the organisation's and its accounts' days,
read from signed report files without the token, stored once, shown by `kpi ai --usage` — and the figures
from the history's marks unchanged by them. The fake answers as GitHub's REST reference says
(tests/specs/github-rest/copilot-reports.json) and serves files shaped like its example schema."""

from __future__ import annotations

import json
import random
import sqlite3
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import GitBuilder
from tests.fakes.github import CopilotReports, FakeGitHub, copilot_user

NOW = "2026-12-07T12:00:00Z"
FIRST = date(2026, 11, 1)
LATEST = date(2026, 12, 5)  # GitHub processes a day a day or two later
LOGINS = ("Alice-GH", "bob", "carol")


def draw(seed: int, first: date, last: date) -> CopilotReports:
    """Days of three accounts (carol only some weeks) and the pull requests Copilot opened."""
    rng = random.Random(seed)
    reports = CopilotReports(latest=last.isoformat())
    day = first
    while day <= last:
        iso = day.isoformat()
        rows = []
        for login in LOGINS:
            if rng.random() < (0.3 if login == "carol" else 0.8):
                generations = rng.randint(1, 40)
                agent = rng.choice([0, 0, rng.randint(5, 200)])
                rows.append(
                    copilot_user(
                        iso,
                        login,
                        prompts=rng.randint(0, 30),
                        generations=generations,
                        acceptances=rng.randint(0, generations),
                        suggested=rng.randint(10, 400),
                        added=agent + rng.randint(0, 150),
                        deleted=rng.randint(0, 20) if agent else 0,
                        agent=agent,
                        chat=rng.random() < 0.5,
                    )
                )
        reports.users[iso] = rows
        reports.pulls[iso] = {"total_created_by_copilot": rng.randint(0, 2), "total_merged_created_by_copilot": 0}
        day += timedelta(days=1)
    return reports


@pytest.fixture(scope="module")
def gh(tmp_path_factory: pytest.TempPathFactory):
    repo = GitBuilder(tmp_path_factory.mktemp("copilot") / "api")
    repo.commit(
        "Add the checkout\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
        {"a.py": "1\n"},
        date="2026-11-20T10:00:00Z",
    )
    repo.commit("Fix the total", {"a.py": "2\n"}, date="2026-11-21T10:00:00Z")
    with FakeGitHub({"acme/api": repo.path}) as fake:
        yield fake


@pytest.fixture
def world(gh: FakeGitHub, tmp_path: Path):
    """A config syncing acme/api and acme's Copilot reports, with Alice mapped by her login."""
    gh.copilot.clear()
    gh.refused.clear()
    gh.downloads.clear()
    gh.log.clear()
    config = tmp_path / "teamops.toml"
    config.write_text(
        '[[repos]]\ngithub = "acme/api"\n\n[github]\ncopilot_orgs = ["acme"]\ncopilot_days = 40\n\n'
        '[[people]]\nhandle = "alice"\ngithub = "alice-gh"\nteam = "shop"\n'
    )
    env = {
        "GITHUB_TOKEN": gh.token,
        "TEAMOPS_GITHUB_API_URL": gh.url,
        "TEAMOPS_CONFIG": str(config),
        "TEAMOPS_NOW": NOW,
    }
    return env, str(tmp_path / "t.db"), config


def copilot_requests(gh: FakeGitHub) -> list[str]:
    return [path for _, path, _ in gh.log if "/copilot/" in path]


def rows(db: str, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_a_first_sync_stores_every_reported_day_and_kpi_ai_usage_adds_them_up(gh, world, cli):
    env, db, _ = world
    gh.copilot["acme"] = reports = draw(7, FIRST, LATEST)
    reports.files = 2  # the users report comes in two files
    res = cli("--db", db, "sync-commits", env=env)
    assert res.exit_code == 0, res.output
    assert "Copilot usage of acme: 35 days" in res.output
    # the latest 28 days (2 requests), then each older day within copilot_days: 28 Oct – 7 Nov; the four
    # days before the organisation had a report answer 404 once, and the users report is not asked for them
    asked = copilot_requests(gh)
    assert len([p for p in asked if "28-day" in p]) == 2
    one_day = sorted({p.split("day=")[1] for p in asked if "1-day" in p})
    assert one_day == [(date(2026, 10, 28) + timedelta(days=i)).isoformat() for i in range(11)]
    assert all(auth == "" for _, auth in gh.downloads), "a report file was fetched with the token"
    # stored: each day once, each account's day once, as the files hold them
    every = [u for d in reports.users.values() for u in d]
    assert rows(db, "SELECT count(*), min(day), max(day) FROM assistant_days") == [(35, "2026-11-01", "2026-12-05")]
    assert rows(db, "SELECT count(*), sum(lines_added) FROM assistant_users") == [
        (len(every), sum(u["loc_added_sum"] for u in every))
    ]
    # kpi ai --usage by person: Alice through her mapped login, the others by theirs
    out = cli("--db", db, "kpi", "ai", "--usage", "--by", "person", "--since", "2026-11-01", "-f", "json", env=env)
    assert out.exit_code == 0, out.output
    got = {r["group"]: r for r in json.loads(out.stdout)["rows"]}
    want: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for u in every:
        name = "alice" if u["user_login"] == "Alice-GH" else f"{u['user_login']} (unmapped)"
        w = want[name]
        w["active_days"] += 1
        w["prompts"] += u["user_initiated_interaction_count"]
        w["lines_added"] += u["loc_added_sum"]
        w["generations"] += u["code_generation_activity_count"]
        w["acceptances"] += u["code_acceptance_activity_count"]
        w["agent_lines"] += sum(
            f["loc_added_sum"] + f["loc_deleted_sum"] for f in u["totals_by_feature"] if f["feature"] == "agent_edit"
        )
    assert set(got) == set(want)
    for name, w in want.items():
        assert {k: got[name][k] for k in w} == dict(w), name
        assert got[name]["acceptance_rate"] == round(w["acceptances"] / w["generations"], 3)
    # by team: Alice's team, the rest without one
    out = cli("--db", db, "kpi", "ai", "--usage", "--by", "team", "--since", "2026-11-01", "-f", "json", env=env)
    teams = {r["group"]: r["people"] for r in json.loads(out.stdout)["rows"]}
    assert teams == {"shop": 1, "(no team)": 2}
    # by week: the pull requests Copilot opened, from the organisation's days
    out = cli(
        "--db", db, "kpi", "ai", "--usage", "--since", "2026-11-02", "--until", "2026-11-30", "-f", "json", env=env
    )
    weeks = {r["group"]: r["prs_by_assistant"] for r in json.loads(out.stdout)["rows"]}
    week_prs: dict[str, int] = defaultdict(int)
    for iso, p in reports.pulls.items():
        if "2026-11-02" <= iso <= "2026-11-30":  # --until names a day, the whole of it
            y, w, _ = date.fromisoformat(iso).isocalendar()
            week_prs[f"{y}-W{w:02d}"] += p["total_created_by_copilot"]
    assert weeks == dict(week_prs)
    # the history's figures stand apart: kpi ai says the same with or without the reports, and adds a line
    with_reports = json.loads(cli("--db", db, "kpi", "ai", "--since", "2026-11-01", "-f", "json", env=env).stdout)
    assert with_reports["usage"]["people"] == 3
    text = cli("--db", db, "kpi", "ai", "--since", "2026-11-01", env=env).stdout
    assert "GitHub Copilot's own reports: 3 people active" in text
    bare = db + ".bare"
    plain_env = {**env, "TEAMOPS_CONFIG": str(Path(env["TEAMOPS_CONFIG"]).with_name("plain.toml"))}
    Path(plain_env["TEAMOPS_CONFIG"]).write_text('[[repos]]\ngithub = "acme/api"\n')
    assert cli("--db", bare, "sync-commits", env=plain_env).exit_code == 0
    without = json.loads(cli("--db", bare, "kpi", "ai", "--since", "2026-11-01", "-f", "json", env=plain_env).stdout)
    assert "usage" not in without
    assert {k: v for k, v in with_reports.items() if k != "usage"} == without
    assert without["assisted_commits"] == 1
    # the token and the links' signatures are nowhere in what teamops printed or stored
    raw = Path(db).read_bytes()
    for secret in (gh.token, reports.signature):
        assert secret not in res.output and secret.encode() not in raw


def test_a_later_sync_reads_only_a_newly_processed_day_and_takes_reprocessed_figures(gh, world, cli):
    env, db, _ = world
    gh.copilot["acme"] = reports = draw(11, FIRST, LATEST)
    assert cli("--db", db, "sync-commits", env=env).exit_code == 0
    gh.log.clear()
    gh.downloads.clear()
    again = cli("--db", db, "sync-commits", env=env)
    assert again.exit_code == 0, again.output
    assert "Copilot usage of acme: up to date (GitHub's reports to 2026-12-05)" in again.output
    assert copilot_requests(gh) == ["/orgs/acme/copilot/metrics/reports/organization-28-day/latest"]
    assert gh.downloads == []
    # GitHub processes 6 December and reprocesses 4 December: both are read, in two requests and two files
    newer = draw(12, date(2026, 12, 4), date(2026, 12, 6))
    reports.users.update(newer.users)
    reports.latest = "2026-12-06"
    gh.log.clear()
    gh.downloads.clear()
    later = cli("--db", db, "sync-commits", env={**env, "TEAMOPS_NOW": "2026-12-08T12:00:00Z"})
    assert later.exit_code == 0, later.output
    assert len(copilot_requests(gh)) == 2 and len(gh.downloads) == 2
    for iso in ("2026-12-04", "2026-12-06"):
        want = sum(u["loc_added_sum"] for u in reports.users[iso])
        assert rows(db, f"SELECT sum(lines_added) FROM assistant_users WHERE day = '{iso}'") == [(want,)]
    day_rows = rows(db, "SELECT day, lines_added FROM assistant_days WHERE day = '2026-12-04'")
    assert day_rows == [("2026-12-04", sum(u["loc_added_sum"] for u in reports.users["2026-12-04"]))]


def test_a_refused_token_or_a_hostile_report_says_one_line_and_stores_nothing(gh, world, cli, tmp_path):
    env, db, config = world
    gh.copilot["acme"] = reports = draw(5, date(2026, 11, 20), LATEST)
    gh.refused["copilot"] = 403
    res = cli("--db", db, "sync-commits", env=env)
    assert res.exit_code == 4
    assert "acme/api" in res.output  # the repository was synced all the same
    assert "Organization Copilot metrics" in res.output and "Traceback" not in res.output
    gh.refused.clear()

    def broken(body: bytes) -> str:
        original = CopilotReports.body
        CopilotReports.body = lambda self, records: body  # type: ignore[method-assign]
        try:
            out = cli("--db", db, "sync-commits", env=env)
        finally:
            CopilotReports.body = original  # type: ignore[method-assign]
        assert out.exit_code == 4, out.output
        assert "Traceback" not in out.output
        assert rows(db, "SELECT count(*) FROM assistant_days") == [(0,)]
        assert rows(db, "SELECT count(*) FROM assistant_users") == [(0,)]
        return out.output

    assert "has a line that is not JSON (line 2)" in broken(b'{"day": "2026-11-20"}\n{"day": \n')
    negative = json.dumps({"day": "2026-11-20", "loc_added_sum": -5}).encode()
    assert "-5 is not a count" in broken(negative)
    assert "is not a GitHub login" in broken(json.dumps({"day": "2026-11-20", "user_login": "x y"}).encode())
    assert "is not JSON" in broken(b"[" * 100_000 + b"]" * 100_000)
    assert "has a line that is not JSON (line 1)" in broken(b'{"a": ' * 50_000 + b"1" + b"}" * 50_000)
    assert "None' is not a day" in broken(json.dumps({"user_login": "bob", "loc_added_sum": 3}).encode())
    config.write_text(config.read_text().replace("copilot_days = 40", "copilot_days = 40\ncopilot_max_mb = 1"))
    assert "larger than 1 MB: refused" in broken(b"{}\n" * 400_000)
    # the same reports printed as one JSON array, as the docs' examples are, read alike
    reports.pretty = True
    ok = cli("--db", db, "sync-commits", env=env)
    assert ok.exit_code == 0, ok.output
    assert rows(db, "SELECT count(*) FROM assistant_users") == [(sum(len(v) for v in reports.users.values()),)]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('copilot_orgs = ["acme corp"]', "github.copilot_orgs"),
        ("copilot_days = 400", "github.copilot_days"),
    ],
)
def test_a_wrong_setting_is_exit_3(setting, message, cli, tmp_path):
    config = tmp_path / "teamops.toml"
    config.write_text(f"[github]\n{setting}\n")
    res = cli("--db", str(tmp_path / "t.db"), "kpi", "ai", env={"TEAMOPS_CONFIG": str(config)})
    assert res.exit_code == 3 and message in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--compare"], "no --compare"), (["--by", "repo"], "go by week, person, team")],
)
def test_usage_refuses_what_the_reports_cannot_say(args, message, cli, tmp_path):
    res = cli("--db", str(tmp_path / "t.db"), "kpi", "ai", "--usage", *args)
    assert res.exit_code == 2 and message in res.output


def test_no_report_yet_is_said_plainly(gh, world, cli):
    env, db, _ = world
    res = cli("--db", db, "kpi", "ai", "--usage", env=env)
    assert res.exit_code == 0
    assert "no usage report in this window" in res.output


def test_merge_carries_the_reports_and_keeps_the_latest_read(gh, world, cli, tmp_path):
    env, db, _ = world
    gh.copilot["acme"] = draw(3, date(2026, 11, 20), LATEST)
    assert cli("--db", db, "sync-commits", env=env).exit_code == 0
    main = str(tmp_path / "main.db")
    assert cli("--db", main, "merge", db, env=env).exit_code == 0
    for table in ("assistant_days", "assistant_users"):
        assert rows(main, f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4") == rows(
            db, f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4"
        )
    # merged again after GitHub reprocessed a day: the shard read later, so its figures win
    gh.copilot["acme"] = draw(4, date(2026, 11, 20), LATEST)
    gh.copilot["acme"].latest = "2026-12-05"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sync_state SET cursor = NULL WHERE source = 'copilot:acme'")
    assert cli("--db", db, "sync-commits", env={**env, "TEAMOPS_NOW": "2026-12-07T13:00:00Z"}).exit_code == 0
    assert cli("--db", main, "merge", db, env=env).exit_code == 0
    want = rows(db, "SELECT day, sum(lines_added) FROM assistant_users GROUP BY day")
    assert rows(main, "SELECT day, sum(lines_added) FROM assistant_users GROUP BY day") == want


def test_doctor_says_whether_the_reports_answer(gh, world, cli):
    env, db, _ = world
    gh.copilot["acme"] = draw(2, date(2026, 11, 20), LATEST)
    res = cli("--db", db, "doctor", env=env)
    assert "Copilot usage reports of acme answer (to 2026-12-05)" in res.output
    gh.refused["copilot"] = 403
    res = cli("--db", db, "doctor", env=env)
    assert res.exit_code != 0 and "Organization Copilot metrics" in res.output


def test_the_dashboard_shows_the_reports_week_by_week(gh, world, cli, tmp_path):
    env, db, _ = world
    gh.copilot["acme"] = reports = draw(9, FIRST, LATEST)
    assert cli("--db", db, "sync-commits", env=env).exit_code == 0
    out = tmp_path / "site"
    res = cli("--db", db, "report", "html", "--out", str(out), env=env)
    assert res.exit_code == 0, res.output
    page = (out / "index.html").read_text()
    assert "AI assistants&#39; own usage reports" in page or "AI assistants' own usage reports" in page
    week = [iso for iso in reports.users if date.fromisoformat(iso).isocalendar()[1] == 47]
    added = sum(u["loc_added_sum"] for iso in week for u in reports.users[iso])
    assert f"{added:,}" in page
    assert 'data-report="ai-usage" data-command="[&#34;kpi&#34;, &#34;ai&#34;, &#34;--usage&#34;' in page
