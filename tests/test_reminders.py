"""Reminders on a controlled clock: local days across timezones and DST, once per day and per week."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from teamops.messages.reminders import day_bounds
from tests.fakes.receivers import FakeReceivers


def test_day_bounds_follow_daylight_saving():
    berlin = ZoneInfo("Europe/Berlin")
    assert day_bounds(date(2026, 10, 25), berlin) == ("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z")  # 25 h
    assert day_bounds(date(2026, 3, 29), berlin) == ("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z")  # 23 h
    assert day_bounds(date(2026, 11, 25), ZoneInfo("Asia/Tokyo")) == ("2026-11-24T15:00:00Z", "2026-11-25T15:00:00Z")


@pytest.fixture
def team(cli, isolated, make_repo, monkeypatch):
    with FakeReceivers() as fake:
        monkeypatch.setenv("SLACK_URL", fake.url("slack"))
        monkeypatch.setenv("DISCORD_URL", fake.url("discord"))
        monkeypatch.setenv("MAKE_URL", fake.url("make"))
        (isolated / "teamops.toml").write_text(
            '[notify.channels.team]\nkind = "slack"\nurl_env = "SLACK_URL"\n'
            '[notify.channels.tokyo]\nkind = "discord"\nurl_env = "DISCORD_URL"\n'
            '[notify.channels.flows]\nkind = "make"\nurl_env = "MAKE_URL"\n'
            '[notify.routes]\neod_reminder = ["team", "flows"]\nmastery_reminder = ["team"]\n'
            '[reminders]\ndefault_timezone = "Europe/Berlin"\nteam_channels = { jp = ["tokyo"] }\n',
            encoding="utf-8",
        )
        repo = make_repo()
        # Kenji's Wednesday in Tokyo is 2026-11-24T15:00Z .. 2026-11-25T15:00Z
        repo.commit("late tuesday", {"a": "1\n"}, author=("Kenji", "kenji@acme.jp"), date="2026-11-24T14:59:00+00:00")
        repo.commit("wednesday 1", {"b": "1\n2\n"}, author=("Kenji", "kenji@acme.jp"), date="2026-11-24T15:30:00+00:00")
        repo.commit("wednesday 2", {"c": "1\n"}, author=("Kenji", "kenji@acme.jp"), date="2026-11-25T09:00:00+00:00")
        cli("sync-commits", "--repo", str(repo.path))
        cli("analyze")
        cli(
            "people",
            "add",
            "kenji",
            "--name",
            "Kenji",
            "--email",
            "kenji@acme.jp",
            "--timezone",
            "Asia/Tokyo",
            "--team",
            "jp",
        )
        cli("people", "add", "anna", "--name", "Anna")  # no timezone: [reminders] default_timezone
        cli("people", "add", "gone")
        cli("people", "edit", "gone", "--inactive")
        yield fake


def at(when: str) -> dict[str, str]:
    return {"TEAMOPS_NOW": when}


def outbox(isolated: Path) -> list[tuple]:
    conn = sqlite3.connect(isolated / "teamops.db")
    try:
        return conn.execute("SELECT kind, idempotency_key, channel, status FROM outbox ORDER BY id").fetchall()
    finally:
        conn.close()


def test_eod_uses_each_persons_local_day_and_team_route(cli, team, isolated):
    cli(
        "task",
        "add",
        "Ship it",
        "-R",
        "kenji",
        "-A",
        "anna",
        "--status",
        "in_progress",
        "--no-send",
        env=at("2026-11-24T08:00:00Z"),
    )
    cli("task", "add", "Stuck", "-R", "kenji", "-A", "anna", "--no-send", env=at("2026-11-24T08:00:00Z"))
    cli("task", "block", "2", "--reason", "waiting for legal", "--no-send", env=at("2026-11-24T10:00:00Z"))
    cli("mastery", "assign", "kenji", "Write an ADR", "--due", "2026-11-27")
    res = cli("remind", "eod", env=at("2026-11-25T09:30:00Z"))  # 18:30 in Tokyo, 10:30 in Berlin
    assert res.exit_code == 0, res.output
    assert "eod kenji (2026-11-25, Asia/Tokyo): queued" in res.stderr
    assert "eod anna (2026-11-25, Europe/Berlin): queued" in res.stderr
    assert "gone" not in res.stderr  # inactive people are skipped
    assert outbox(isolated) == [
        ("eod_reminder", "eod:anna:2026-11-25", "team", "sent"),
        ("eod_reminder", "eod:anna:2026-11-25", "flows", "sent"),
        ("eod_reminder", "eod:kenji:2026-11-25", "tokyo", "sent"),
    ]
    embed = json.loads(team.of("discord")[0].body)["embeds"][0]
    text = embed["description"]
    assert text.startswith("2 commits today (+3/-0 lines")  # Wednesday in Tokyo, not the late Tuesday one
    assert "In progress: #1 Ship it." in text
    assert "Blocked: #2 Stuck, for 24 h (waiting for legal)." in text
    assert "Mastery: Write an ADR, due 2026-11-27." in text
    assert {f["name"]: f["value"] for f in embed["fields"]}["blocked"] == "1"
    slack = json.loads(team.of("slack")[0].body)
    assert slack["blocks"][0]["text"]["text"].startswith("End of day, Anna")
    assert "No commits today." in slack["blocks"][1]["text"]["text"]  # an empty day still gets a short note
    make = json.loads(team.of("make")[0].body)
    assert make["kind"] == "eod_reminder" and make["fields"]["commits today"] == "0" and make["people"] == ["anna"]


def test_once_per_day_force_and_dry_run(cli, team, isolated):
    first = cli("remind", "eod", "--person", "anna", env=at("2026-11-25T16:30:00Z"))
    assert "1 queued" in first.stderr
    again = cli("remind", "eod", "--person", "anna", env=at("2026-11-25T16:45:00Z"))
    assert "skipped, already sent for this day (2026-11-25T16:30:00Z)" in again.stderr
    assert "0 queued (0 messages), 1 queued earlier" in again.stderr
    forced = cli("remind", "eod", "--person", "anna", "--force", env=at("2026-11-25T16:50:00Z"))
    assert "1 queued" in forced.stderr
    keys = [k for _, k, ch, _ in outbox(isolated) if ch == "team"]
    assert keys == ["eod:anna:2026-11-25", "eod:anna:2026-11-25:again:20261125T165000Z"]
    before = len(team.received)
    dry = cli("remind", "eod", "--person", "anna", "--dry-run", env=at("2026-11-26T16:30:00Z"))
    assert dry.exit_code == 0 and '"blocks"' in dry.stdout and "nothing sent or recorded" in dry.stderr
    assert len(team.received) == before and len(outbox(isolated)) == 4


def test_an_earlier_date_counts_blocked_hours_up_to_that_day(cli, team, isolated):
    cli("task", "add", "Stuck", "-R", "anna", "-A", "anna", "--no-send", env=at("2026-11-23T08:00:00Z"))
    cli("task", "block", "1", "--reason", "legal", "--no-send", env=at("2026-11-23T09:00:00Z"))
    res = cli("remind", "eod", "--person", "anna", "--date", "2026-11-24", "--dry-run", env=at("2026-11-27T12:00:00Z"))
    # The end of Tuesday the 24th in Berlin is 23:00 UTC: 38 h after the block, not the 99 h until now.
    assert "Blocked: #1 Stuck, for 38 h (legal)." in res.stdout, res.stdout


def test_a_reminder_queued_with_no_send_is_pending_not_sent(cli, team, isolated):
    queued = cli("remind", "eod", "--person", "anna", "--no-send", env=at("2026-11-25T16:30:00Z"))
    assert "1 queued (2 messages)" in queued.stderr and team.received == []
    again = cli("remind", "eod", "--person", "anna", env=at("2026-11-25T17:00:00Z"))
    assert "skipped, queued earlier for this day and still pending: `teamops notify send` delivers it" in again.stderr
    assert "already sent" not in again.stderr and team.received == []
    assert cli("notify", "send").exit_code == 0 and len(team.received) == 2
    third = cli("remind", "eod", "--person", "anna", env=at("2026-11-25T17:30:00Z"))
    assert "skipped, already sent for this day" in third.stderr


def test_json_output_is_one_document_dry_run_or_not(cli, team, isolated):
    toml = isolated / "teamops.toml"
    toml.write_text(toml.read_text().replace('eod_reminder = ["team", "flows"]', "eod_reminder = []"))
    dry = cli("remind", "eod", "--dry-run", "-f", "json", env=at("2026-11-25T16:30:00Z"))
    data = json.loads(dry.stdout)
    assert data["report"] == "remind-eod-dry-run" and isinstance(data["rows"], list)
    real = json.loads(cli("remind", "eod", "-f", "json", env=at("2026-11-25T16:30:00Z")).stdout)
    assert real["report"] == "remind-eod" and {r["person"] for r in real["rows"]} == {"anna", "kenji"}


def test_weekends_and_dst_days_in_the_persons_zone(cli, team, isolated):
    # Friday 22:00 UTC is Saturday 07:00 in Tokyo: no check-in for Kenji, one for Anna (Friday 23:00 in Berlin)
    res = cli("remind", "eod", env=at("2026-11-27T22:00:00Z"))
    assert "eod kenji (2026-11-28, Asia/Tokyo): skipped, Saturday is not a working day" in res.stderr
    assert "eod anna (2026-11-27, Europe/Berlin): queued" in res.stderr
    # The 25-hour Sunday of the autumn clock change counts as one local day when Sundays are working days
    toml = isolated / "teamops.toml"
    toml.write_text(toml.read_text() + '[kpi]\nworking_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n')
    res = cli("remind", "eod", "--person", "anna", env=at("2026-10-25T22:30:00Z"))  # 23:30 CET
    assert "eod anna (2026-10-25, Europe/Berlin): queued" in res.stderr


def test_mastery_weekly_overdue_first_and_rollover(cli, team, isolated):
    cli("mastery", "assign", "anna", "Give a tech talk", "--due", "2026-12-10")
    cli("mastery", "assign", "anna", "Read the RFC", "--due", "2026-11-20")
    cli("mastery", "assign", "anna", "1:1 with mentor", "--due", "2026-11-27", "--every", "week")
    res = cli("remind", "mastery", env=at("2026-11-24T08:00:00Z"))
    assert "mastery anna (2026-11-24, Europe/Berlin): queued" in res.stderr
    assert "mastery kenji (2026-11-24, Asia/Tokyo): skipped, no pending mastery items" in res.stderr
    text = json.loads(team.of("slack")[-1].body)["blocks"][1]["text"]["text"]
    lines = text.splitlines()
    assert lines[0] == "OVERDUE #2 Read the RFC (due 2026-11-20)"
    assert lines[1] == "#3 1:1 with mentor (due 2026-11-27, every week)" and lines[2].startswith("#1 Give a tech talk")
    assert (
        "0 queued (0 messages), 1 queued earlier" in cli("remind", "mastery", env=at("2026-11-29T20:00:00Z")).stderr
    )  # same ISO week
    assert "1 queued" in cli("remind", "mastery", env=at("2026-11-30T08:00:00Z")).stderr  # the next week
    keys = [k for kind, k, _, _ in outbox(isolated) if kind == "mastery_reminder"]
    assert keys == ["mastery:anna:2026-W48", "mastery:anna:2026-W49"]
    done = cli("mastery", "done", "3")
    assert "next one is #4" in done.stderr
    items = {r["id"]: r for r in json.loads(cli("mastery", "list", "--person", "anna", "-f", "json").stdout)["rows"]}
    assert items[3]["status"] == "done" and items[4]["due"] == "2026-12-04" and items[4]["previous"] == 3
    cli("mastery", "drop", "1")
    assert [
        r["id"] for r in json.loads(cli("mastery", "list", "--status", "pending", "-f", "json").stdout)["rows"]
    ] == [2, 4]


def test_edges(cli, team, isolated):
    assert cli("remind", "eod", "--person", "nobody").exit_code == 5
    assert cli("mastery", "assign", "nobody", "x").exit_code == 5
    assert cli("mastery", "assign", "anna", "x", "--every", "day", "--due", "2026-12-01").exit_code == 5
    assert cli("mastery", "assign", "anna", "x", "--every", "week").exit_code == 5
    assert cli("mastery", "done", "99").exit_code == 5
    assert cli("remind", "eod", "--date", "someday").exit_code == 2
    toml = isolated / "teamops.toml"
    toml.write_text(toml.read_text().replace("[reminders]\n", "[reminders]\nsend_when_empty = false\n"))
    res = cli("remind", "eod", "--person", "anna", env=at("2026-11-25T16:30:00Z"))
    assert "skipped, nothing to report" in res.stderr


def test_eod_after_makes_an_hourly_schedule_right_in_every_zone(cli, team, isolated):
    toml = isolated / "teamops.toml"
    toml.write_text(toml.read_text() + 'eod_after = "17:30"\n', encoding="utf-8")  # inside [reminders]
    # 16:00 UTC: 17:00 in Berlin (too early), 01:00 the next day in Tokyo (Thursday, also too early).
    early = cli("remind", "eod", env=at("2026-11-25T16:00:00Z"))
    assert "anna (2026-11-25, Europe/Berlin): skipped, not 17:30 yet there (17:00)" in early.stderr, early.stderr
    # Each hour after that: Anna once at 16:30 UTC; Kenji once his Thursday reaches 17:30 (08:30 UTC).
    for hour in ("16:30", "17:30", "18:30"):
        cli("remind", "eod", env=at(f"2026-11-25T{hour}:00Z"))
    for hour in ("07:30", "08:30", "09:30"):
        cli("remind", "eod", env=at(f"2026-11-26T{hour}:00Z"))
    keys = [k for _, k, ch, _ in outbox(isolated) if ch in ("team", "tokyo")]
    assert keys == ["eod:anna:2026-11-25", "eod:kenji:2026-11-26"]
    toml.write_text(toml.read_text().replace('eod_after = "17:30"', 'eod_after = "5pm"'), encoding="utf-8")
    res = cli("remind", "eod")
    assert res.exit_code == 3 and "reminders.eod_after must be a local time as HH:MM" in res.stderr
