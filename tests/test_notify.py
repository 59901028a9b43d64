"""The outbox: each message once, rendered per channel, delivered through 5xx, 429 and hangs."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from pathlib import Path

import pytest

from teamops.config import load_config
from teamops.integrations.webhooks import render
from teamops.messages.message import Message
from teamops.messages.notify import queue, send_pending
from teamops.store.database import open_database
from tests.fakes.receivers import FakeReceivers

SECRET_PART = "s3cr3tT0k3n"


def write_config(folder: Path, extra: str = "") -> Path:
    text = (
        """
[notify]
max_attempts = 3
timeout_s = 1
[notify.channels.ops]
kind = "make"
url_env = "MAKE_URL"
[notify.channels.team]
kind = "slack"
url_env = "SLACK_URL"
[notify.channels.chat]
kind = "discord"
url_env = "DISCORD_URL"
[notify.channels.hook]
kind = "webhook"
url_env = "HOOK_URL"
secret_env = "HOOK_SECRET"
[notify.routes]
task_blocked = ["ops", "team", "chat", "hook"]
eod_reminder = ["team"]
escalation = ["chat"]
"""
        + extra
    )
    path = folder / "teamops.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def receivers(monkeypatch):
    with FakeReceivers() as fake:
        monkeypatch.setenv("MAKE_URL", fake.url("make"))
        monkeypatch.setenv("SLACK_URL", fake.url("slack"))
        monkeypatch.setenv("DISCORD_URL", fake.url("discord"))
        monkeypatch.setenv("HOOK_URL", fake.url("hook"))
        monkeypatch.setenv("HOOK_SECRET", "hook-signing-secret")
        yield fake


@pytest.fixture
def setup(isolated, receivers):
    cfg = load_config(str(write_config(isolated)), env=__import__("os").environ)
    db = open_database(isolated / "teamops.db")
    return cfg, db


def blocked(n: int = 1) -> Message:
    return Message(
        kind="task_blocked",
        key=f"blocked:T-{n}:1",
        title=f"Task #{n} is blocked",
        body="Waiting for the API keys from the vendor.",
        fields={"task": f"#{n}", "accountable": "alice"},
        url=f"https://app.clickup.com/t/{n}",
        people=["alice"],
        severity="warning",
    )


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def statuses(db) -> list[tuple]:
    return db.execute("SELECT channel, status, attempts FROM outbox ORDER BY id").fetchall()


def test_queue_twice_is_one_message_and_send_twice_delivers_once(setup, receivers):
    cfg, db = setup
    assert len(queue(db, cfg.notify, blocked())) == 4
    assert queue(db, cfg.notify, blocked()) == []
    first = send_pending(db, cfg, sleep=Sleeps())
    assert (first.sent, first.failed) == (4, 0)
    second = send_pending(db, cfg, sleep=Sleeps())
    assert second.sent == 0
    assert len(receivers.received) == 4
    assert {r.headers["idempotency-key"] for r in receivers.received} == {"blocked:T-1:1"}


def test_rendering_per_channel(setup, receivers):
    cfg, db = setup
    queue(db, cfg.notify, blocked())
    send_pending(db, cfg, sleep=Sleeps())
    make = json.loads(receivers.of("make")[0].body)
    assert make["title"] == "Task #1 is blocked" and make["fields"]["accountable"] == "alice"
    assert make["kind"] == "task_blocked" and make["text"]
    slack = json.loads(receivers.of("slack")[0].body)
    assert slack["text"].startswith("Task #1 is blocked")
    assert [b["type"] for b in slack["blocks"]] == ["header", "section", "section", "actions", "context"]
    discord = json.loads(receivers.of("discord")[0].body)
    assert discord["allowed_mentions"] == {"parse": []}
    assert discord["embeds"][0]["url"] == "https://app.clickup.com/t/1"
    hook = receivers.of("hook")[0]
    envelope = json.loads(hook.body)
    assert envelope["version"] == 1 and envelope["id"] == "blocked:T-1:1" and envelope["message"]["people"] == ["alice"]
    expected = "sha256=" + hmac.new(b"hook-signing-secret", hook.body, hashlib.sha256).hexdigest()
    assert hook.headers["x-teamops-signature-256"] == expected
    assert hook.headers["x-teamops-event"] == "task_blocked"


def test_discord_and_slack_limits_hold_for_huge_messages():
    msg = Message(
        kind="eod_reminder",
        key="k",
        title="T" * 500,
        body="x" * 10_000,
        fields={f"field {i}": "v" * 3000 for i in range(40)},
    )
    discord = render("discord", msg)
    embed = discord["embeds"][0]
    assert len(discord["content"]) <= 2000 and len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
    assert len(embed["fields"]) <= 25 and all(len(f["value"]) <= 1024 for f in embed["fields"])
    total = (
        len(embed["title"])
        + len(embed["description"])
        + len(embed["footer"]["text"])
        + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    )
    assert total <= 6000
    slack = render("slack", msg)
    assert len(slack["blocks"][0]["text"]["text"]) <= 150 and len(slack["blocks"][1]["text"]["text"]) <= 3000
    assert len(slack["blocks"][2]["fields"]) <= 10


def test_500_then_success_and_429_retry_after(setup, receivers):
    cfg, db = setup
    receivers.script["make"] = [(500, "oops", {}), (502, "bad gateway", {})]
    receivers.script["slack"] = [(429, "rate_limited", {"Retry-After": "7"})]
    receivers.script["discord"] = [
        (
            429,
            '{"message": "You are being rate limited.", "retry_after": 0.25, "global": false}',
            {"Content-Type": "application/json"},
        )
    ]
    queue(db, cfg.notify, blocked())
    sleeps = Sleeps()
    result = send_pending(db, cfg, sleep=sleeps, jitter=lambda: 0.0)
    assert (result.sent, result.failed) == (4, 0)
    assert 1.0 in sleeps and 2.0 in sleeps  # backoff after the 500 and the 502
    assert 7.0 in sleeps and 0.25 in sleeps  # Slack's header, Discord's JSON
    assert [a for _, _, a in statuses(db)] == [3, 2, 2, 1]


@pytest.mark.parametrize(
    ("style", "reply", "needle"),
    [
        ("slack", (404, "no_service", {}), "Slack refused: HTTP 404 no_service"),
        ("slack", (400, "invalid_payload", {}), "invalid_payload"),
        ("slack", (200, "channel_is_archived", {}), "channel_is_archived"),
        ("discord", (404, '{"message": "Unknown Webhook", "code": 10015}', {}), "unknown webhook"),
        ("hook", (410, "gone", {}), "HTTP 410"),
    ],
)
def test_permanent_errors_fail_at_once_with_the_reason(setup, receivers, style, reply, needle):
    cfg, db = setup
    receivers.script[style] = [reply]
    queue(db, cfg.notify, blocked())
    result = send_pending(db, cfg, sleep=Sleeps())
    assert result.failed == 1 and result.sent == 3
    failed = db.execute("SELECT attempts, last_error FROM outbox WHERE status = 'failed'").fetchone()
    assert failed[0] == 1 and needle in failed[1]
    assert len(receivers.of(style)) == 1


def test_a_hanging_receiver_times_out_and_fails_after_max_attempts(setup, receivers):
    cfg, db = setup
    receivers.hang_s = 3
    receivers.script["slack"] = ["hang", "hang", "hang"]
    queue(db, cfg.notify, Message(kind="eod_reminder", key="eod:alice:2026-11-24", title="EOD", body="check in"))
    result = send_pending(db, cfg, sleep=Sleeps())
    assert result.failed == 1
    assert db.execute("SELECT attempts, last_error FROM outbox").fetchone() == (3, "no answer within 1 s")


def test_a_crash_after_the_post_repeats_one_delivery_with_the_same_key(setup, receivers):
    cfg, db = setup
    queue(db, cfg.notify, Message(kind="eod_reminder", key="eod:bob:2026-11-24", title="EOD", body="check in"))
    from teamops.integrations import webhooks

    def post_then_die(*args, **kwargs):
        webhooks.post(*args, **kwargs)
        raise KeyboardInterrupt  # the process dies before its bookkeeping

    with pytest.raises(KeyboardInterrupt):
        send_pending(db, cfg, sleep=Sleeps(), post=post_then_die)
    assert statuses(db) == [("team", "pending", 1)]
    send_pending(db, cfg, sleep=Sleeps())
    assert statuses(db) == [("team", "sent", 2)]
    keys = [r.headers["idempotency-key"] for r in receivers.of("slack")]
    assert keys == ["eod:bob:2026-11-24", "eod:bob:2026-11-24"]


def test_queued_messages_survive_a_kill_before_sending(cli, isolated, receivers):
    write_config(isolated)
    cfg = load_config(None, env=__import__("os").environ)
    db = open_database(isolated / "teamops.db")
    queue(db, cfg.notify, Message(kind="escalation", key="esc:T-9:1", title="Escalation", body="blocked 30 h"))
    db.conn.close()  # the queuing process ends here, as if killed
    res = cli("notify", "send")
    assert res.exit_code == 0, res.output
    assert "notify send: 1 sent, 0 failed, 0 deferred" in res.stderr
    assert len(receivers.of("discord")) == 1


def test_cli_dry_run_list_and_test(cli, isolated, receivers):
    write_config(isolated)
    cfg = load_config(None, env=__import__("os").environ)
    db = open_database(isolated / "teamops.db")
    queue(db, cfg.notify, blocked())
    db.conn.close()
    dry = cli("notify", "send", "--dry-run")
    assert (
        dry.exit_code == 0 and '"blocks"' in dry.stdout and "# task_blocked blocked:T-1:1 → team (slack)" in dry.stdout
    )
    assert receivers.received == []
    pending = json.loads(cli("notify", "list", "--status", "pending", "-f", "json").stdout)["rows"]
    assert len(pending) == 4
    assert cli("notify", "send").exit_code == 0
    sent = json.loads(cli("notify", "list", "-f", "json").stdout)["rows"]
    assert {r["status"] for r in sent} == {"sent"}
    test = cli("notify", "test", "chat")
    assert test.exit_code == 0 and "notify test chat: 1 sent" in test.stderr
    assert json.loads(receivers.of("discord")[-1].body)["content"] == "teamops test message"
    assert cli("notify", "test", "nope").exit_code == 3
    assert cli("notify", "list", "--status", "bogus").exit_code == 5


def test_failures_exit_4_and_never_show_the_url(cli, isolated, receivers):
    write_config(isolated)
    receivers.script["slack"] = [(403, "action_prohibited", {})]
    res = cli("notify", "test", "team")
    assert res.exit_code == 4
    assert "1 message not delivered" in res.stderr
    listed = cli("notify", "list", "-v")
    for text in (res.output, listed.output):
        assert SECRET_PART not in text and receivers.base not in text
    raw = b"".join(p.read_bytes() for p in isolated.glob("teamops.db*"))
    assert SECRET_PART.encode() not in raw and receivers.base.encode() not in raw


def test_missing_url_variable_is_a_config_error(cli, isolated, receivers, monkeypatch):
    write_config(isolated)
    monkeypatch.delenv("SLACK_URL")
    res = cli("notify", "test", "team")
    assert res.exit_code == 3 and "$SLACK_URL is not set" in res.stderr


@pytest.mark.parametrize(
    ("extra_toml", "needle"),
    [
        (
            '[notify.channels.x]\nkind = "teams"\nurl = "https://x"\n',
            "kind must be one of make, slack, discord, webhook",
        ),
        ('[notify.channels.x]\nkind = "slack"\n', "needs exactly one of url_env"),
    ],
)
def test_bad_channels_are_exit_3(cli, isolated, extra_toml, needle):
    (isolated / "teamops.toml").write_text(extra_toml, encoding="utf-8")
    res = cli("config", "show")
    assert res.exit_code == 3 and needle in res.stderr


def test_routes_to_unknown_channel_or_kind_are_exit_3(cli, isolated):
    (isolated / "teamops.toml").write_text('[notify.routes]\ntask_blocked = ["nowhere"]\n', encoding="utf-8")
    assert "names channel 'nowhere'" in cli("config", "show").stderr
    (isolated / "teamops.toml").write_text("[notify.routes]\ncoffee_break = []\n", encoding="utf-8")
    res = cli("config", "show")
    assert res.exit_code == 3 and "notify.routes.coffee_break is not a message kind" in res.stderr


def test_config_show_redacts_channel_urls(cli, isolated, receivers):
    write_config(isolated)
    (isolated / "teamops.toml").write_text(
        (isolated / "teamops.toml").read_text()
        + '[notify.channels.public]\nkind = "webhook"\nurl = "https://hooks.acme.io/in/abc123secret"\n'
    )
    out = cli("config", "show").stdout
    assert "abc123secret" not in out and "https://hooks.acme.io/***" in out
    assert "SLACK_URL (set)" in out
    assert sqlite3 is not None


def test_a_dry_run_previews_without_the_channels_secrets_and_says_blocked_once(cli, isolated):
    """No SLACK_WEBHOOK_URL is needed to see what would be sent; the Slack text says "blocked" once."""
    (isolated / "teamops.toml").write_text(
        '[notify.channels.team]\nkind = "slack"\nurl_env = "SLACK_WEBHOOK_URL"\n\n'
        '[notify.routes]\ntask_blocked = ["team"]\n'
    )
    assert cli("people", "add", "ann").exit_code == 0
    assert cli("task", "add", "Ship it", "-R", "ann", "-A", "ann", "--no-send").exit_code == 0
    assert cli("task", "block", "1", "--reason", "waiting for keys", "--no-send").exit_code == 0
    res = cli("notify", "send", "--dry-run", "--format", "json")
    assert res.exit_code == 0, res.output
    previews = json.loads(res.stdout)["rows"]
    text = previews[0]["payload"]["text"]
    assert text == "Task #1 is blocked: *Ship it* — waiting for keys" and text.count("blocked") == 1
    assert cli("notify", "list", "--format", "json").stdout.count('"pending"') == 1  # nothing was sent or marked
