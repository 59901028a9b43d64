"""Text from data never pings, links or formats in Slack or Discord; Make and webhooks get it raw."""

from __future__ import annotations

import json

import pytest

from teamops.config.schema import MESSAGE_KINDS
from teamops.integrations.formatting import discord_escape, safe_url, slack_escape
from teamops.integrations.webhooks import render
from teamops.messages.message import Message, data, link, rich
from tests.fakes.clickup import TOKEN, FakeClickUp
from tests.fakes.receivers import FakeReceivers
from tests.support.chat_rules import discord_active, discord_shown, slack_controls, slack_shown, texts_of

HOSTILE = (
    "Fix <!channel> & <!here> <@U024BE7LH> <https://evil.example|Open> [here](https://evil.example) "
    "@everyone <@&1234> <#5678> **loud** ||spoiler|| `code` ~x~ _y_"
)
REASON = "waits for <!subteam^S0614TZR7> [the docs](https://evil.example/x)\n# heading\n> quote\n1. list"
KINDS = ("slack", "discord", "make", "webhook")
CLICKUP_LINK = "https://app.clickup.com/"


def check_payload(kind: str, payload: dict, raw: list[str]) -> None:
    """The payload as the service would show it: data readable, nothing of it acted on."""
    texts = texts_of(payload)
    if kind == "slack":
        ours = [c for t in texts for c in slack_controls(t) if not c.startswith(CLICKUP_LINK)]
        assert ours == [], ours
        shown = "\n".join(slack_shown(t) for t in texts)
    elif kind == "discord":
        assert payload["allowed_mentions"] == {"parse": []}
        active = [a for t in texts for a in discord_active(t) if f"]({CLICKUP_LINK}" not in a]
        assert active == [], active
        shown = "\n".join(discord_shown(t) for t in texts)
    else:
        shown = "\n".join(texts)  # Make and generic webhooks: the raw values
    for value in raw:
        assert value.split("\n")[0][:60] in shown, (kind, value)


@pytest.fixture
def hostile_team(cli, isolated, monkeypatch):
    with FakeReceivers() as receivers, FakeClickUp() as clickup:
        monkeypatch.setenv("CLICKUP_TOKEN", TOKEN)
        channels = ""
        for kind in KINDS:
            monkeypatch.setenv(f"{kind.upper()}_URL", receivers.url("hook" if kind == "webhook" else kind))
            channels += f'[notify.channels.{kind}]\nkind = "{kind}"\nurl_env = "{kind.upper()}_URL"\n'
        every = ", ".join(f'"{k}"' for k in KINDS)
        routes = "".join(f"{m} = [{every}]\n" for m in MESSAGE_KINDS if m != "test")
        (isolated / "teamops.toml").write_text(
            f'[clickup]\napi_url = "{clickup.url}"\nteam_id = "9012345"\ndocs_parent = {{ id = "9012", type = "4" }}\n'
            f"{channels}[notify.routes]\n{routes}"
            "[notify]\nmax_attempts = 1\n[jobs.broken]\nsteps = [\"sync-commits --repo '/no/<!channel> [x](https://evil.example)'\"]\n",
            encoding="utf-8",
        )
        yield receivers


def test_every_message_kind_on_every_channel_kind_keeps_data_inert(cli, hostile_team):
    at = {"TEAMOPS_NOW": "2026-11-02T09:00:00Z"}
    later = {"TEAMOPS_NOW": "2026-11-03T16:00:00Z"}
    assert cli("people", "add", "eve", "--name", "Eve <!here> [me](https://evil.example)").exit_code == 0
    assert cli("task", "add", HOSTILE, "-R", "eve", "-A", "eve", "--no-send", env=at).exit_code == 0
    assert cli("task", "block", "1", "--reason", REASON, "--no-send", env=at).exit_code == 0
    assert cli("mastery", "assign", "eve", HOSTILE, "--due", "2026-11-01", env=at).exit_code == 0
    assert "Escalation level 1" in cli("raci", "check", "--escalate", "--no-send", env=later).stderr
    assert cli("remind", "eod", "--person", "eve", "--no-send", env=later).exit_code == 0
    assert cli("remind", "mastery", "--person", "eve", "--no-send", env=later).exit_code == 0
    published = cli("gen-doc", "weekly", "--title", HOSTILE, "--publish", "--no-send", env=later)
    assert published.exit_code == 0, published.output
    preview = json.loads(cli("notify", "send", "--dry-run", "-f", "json", env=later).stdout)
    seen = {(row["kind"], row["channel_kind"]) for row in preview["rows"]}
    kinds = ("task_created", "task_blocked", "escalation", "eod_reminder", "mastery_reminder", "doc_published")
    assert seen == {(m, k) for m in kinds for k in KINDS}
    for row in preview["rows"]:
        raw = {
            "task_created": [HOSTILE],
            "task_blocked": [REASON],
            "escalation": [HOSTILE, REASON],
            "eod_reminder": ["Eve <!here> [me](https://evil.example)", HOSTILE],
            "mastery_reminder": [HOSTILE],
            "doc_published": [HOSTILE],
        }[row["kind"]]
        check_payload(row["channel_kind"], row["payload"], raw)
    # job_failed is delivered at once: check what each receiver really got.
    assert cli("job", "run", "broken").exit_code == 1
    got = {r.path.split("/")[1]: json.loads(r.body) for r in hostile_team.received}
    assert set(got) == {"slack", "discord", "make", "hook"}
    for style, payload in got.items():
        check_payload("webhook" if style == "hook" else style, payload, ["/no/<!channel> [x](https://evil.example)"])


def test_links_teamops_makes_stay_links_with_escaped_labels():
    url = "https://app.clickup.com/t/86a0xyz"
    msg = Message(
        kind="task_blocked",
        key="k",
        title="Task #1 is blocked",
        body=rich(link("<!here> [x](https://evil.example) a|b", url), " is blocked: ", data("<@U1>")),
        url=url,
    )
    slack = render("slack", msg)["blocks"][1]["text"]["text"]
    assert slack == f"<{url}|&lt;!here&gt; [x](https://evil.example) a|b> is blocked: &lt;@U1&gt;"
    assert slack_controls(slack) == [f"{url}|&lt;!here&gt; [x](https://evil.example) a|b"]
    discord = render("discord", msg)["embeds"][0]
    assert discord["description"] == (rf"[\<!here> \[x\]\(https://evil.example\) a\|b]({url}) is blocked: \<\@U1>")
    assert discord_active(discord["description"]) == [rf"[\<!here> \[x\]\(https://evil.example\) a\|b]({url})"]
    assert discord["url"] == url


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<b>", "ftp://x.example/f", "https://", "https://a.example/\nb"]
)
def test_a_link_that_is_not_http_becomes_bold_text(url):
    msg = Message(kind="test", key="k", title="t", body=rich(link("label", url)), url=url)
    slack, discord = render("slack", msg), render("discord", msg)
    assert slack["blocks"][1]["text"]["text"] == "*label*"
    assert not any(b["type"] == "actions" for b in slack["blocks"])
    assert discord["embeds"][0]["description"] == "**label**" and "url" not in discord["embeds"][0]


def test_link_urls_cannot_break_out_of_the_markup():
    assert safe_url("https://a.example/x?q=<b>|c d)(e]") == "https://a.example/x?q=%3Cb%3E%7Cc%20d%29%28e%5D"
    assert slack_escape("a & <b> c") == "a &amp; &lt;b&gt; c"
    assert discord_escape("# h\n- i\n10. j\nmid # and - stay") == "\\# h\n\\- i\n10\\. j\nmid # and - stay"


def test_a_message_queued_before_bodies_had_spans_is_all_data():
    old = {"kind": "task_blocked", "key": "k", "title": "T", "text": "*Fix <!channel>* is blocked"}
    msg = Message.from_json(old)
    assert render("slack", msg)["blocks"][1]["text"]["text"] == "*Fix &lt;!channel&gt;* is blocked"
    assert render("discord", msg)["embeds"][0]["description"] == r"\*Fix \<!channel>\* is blocked"
    assert Message.from_json(json.loads(json.dumps(msg.to_json()))).spans == msg.spans
