"""GitHub's exact answer shapes, replayed from a vcrpy cassette through the real client."""

from __future__ import annotations

import pytest
import vcr

from teamops.sources.github.client import GitHubClient, node_to_record
from tests.support.paths import CASSETTES

replay = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    match_on=["method", "scheme", "host", "path", "query"],
    filter_headers=["authorization"],
)


def test_history_head_and_commit_files_from_githubs_shapes():
    with replay.use_cassette("github_hello_world.yaml"):
        client = GitHubClient("https://api.github.com", "ghp_not_a_real_token")
        head, etag = client.branch_head("octocat/Hello-World", "master", None)
        assert head == "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d"
        assert etag == '"7fd1a60b01f91b314f59955a4e4d4e80d8edf11d"'
        same, _ = client.branch_head("octocat/Hello-World", "master", etag)
        assert same is None  # 304 Not Modified
        pages = list(client.history("octocat/Hello-World", head))
        records = [node_to_record(n) for n in pages[0].nodes]
        assert [r.is_merge for r in records] == [True, False, False]
        spaceghost = records[1]
        assert spaceghost.author_login == "Spaceghost"
        assert spaceghost.author_email == "johnneylee.rollins@gmail.com"
        assert spaceghost.authored_at == "2011-09-14T04:42:41Z" and spaceghost.author_tz_offset == -420
        assert (spaceghost.additions_total, spaceghost.deletions_total, spaceghost.files_total) == (1, 1, 1)
        assert client.rate_remaining == 4998
        files = client.commit_files("octocat/Hello-World", spaceghost.sha)
        assert [path for path, _ in files] == ["README"] and files.cut == ""
        assert files[0][1].startswith("@@ -1 +1 @@")
        assert client.requests == 4


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.yaml")), ids=lambda p: p.name)
def test_cassettes_hold_no_credentials(path):
    text = path.read_text(encoding="utf-8")
    for needle in ("authorization", "ghp_", "ghs_", "github_pat_", "token ", "sk-", "bearer"):
        assert needle not in text.lower(), f"{path.name} contains {needle!r}"


def test_openai_chat_completion_shape_through_litellm():
    from teamops.estimation.estimate import SCHEMA, parse_answer
    from teamops.integrations.llm import LLMClient

    with replay.use_cassette("openai_chat_completion.yaml") as cassette:
        client = LLMClient("openai/gpt-4o-mini", api_key="sk-not-a-real-key", num_retries=0)
        answer = client.complete([{"role": "user", "content": "<commit>...</commit>"}], SCHEMA)
        assert cassette.play_count == 1
    assert parse_answer(answer.text) == (
        2,
        1.5,
        0.75,
        "Adds input validation to one handler with a small test.",
    )
    assert (answer.tokens_in, answer.tokens_out) == (412, 31)
    assert abs(answer.cost_usd - (412 * 0.15e-6 + 31 * 0.6e-6)) < 1e-12


def test_webhook_payload_shapes_are_exactly_the_recorded_ones():
    from teamops.integrations.webhooks import post, render
    from teamops.messages.message import Message, data, link, rich

    msg = Message(
        kind="task_blocked",
        key="blocked:T-42:1",
        title="Task #42 is blocked",
        body=rich(
            link("Migrate billing exports", "https://app.clickup.com/t/86a0xyz"),
            " is blocked: ",
            data("waiting for the vendor's API keys."),
        ),
        fields={"task": "#42", "accountable": "alice", "responsible": "bob", "blocked for": "26 h"},
        url="https://app.clickup.com/t/86a0xyz",
        people=["alice", "bob"],
        severity="warning",
        created_at="2026-11-24T17:30:00Z",
    )
    targets = {
        "make": "https://hook.eu1.make.com/TESTTESTTESTTESTTESTTEST",
        "slack": "https://hooks.slack.com/services/TTEST/BTEST/TESTTESTTEST",
        "discord": "https://discord.com/api/webhooks/1234567890/TESTTESTTEST",
        "webhook": "https://hooks.acme.io/teamops",
    }
    exact = vcr.VCR(
        cassette_library_dir=str(CASSETTES), record_mode="none", match_on=["method", "host", "path", "body"]
    )
    with exact.use_cassette("webhook_payloads.yaml") as cassette:
        for kind, url in targets.items():
            assert post(kind, url, render(kind, msg), msg.key).ok, kind
        assert cassette.play_count == 4


def test_clickup_answer_shapes_through_the_client():
    from teamops.integrations.clickup import ClickUpClient

    with replay.use_cassette("clickup_tasks.yaml") as cassette:
        client = ClickUpClient("https://api.clickup.com/api", "pk_not_a_real_token")
        pages = list(client.list_tasks("901100200300", include_closed=True, subtasks=True, archived=False))
        assert [len(tasks) for _, tasks in pages] == [2, 0]  # last_page false, then an empty last page
        assert pages[0][1][0]["name"] == "Fix login bug"
        times = client.time_in_status(["9hx"])
        assert times["9hx"]["current_status"]["status"] == "open"
        assert client.remaining == 98 and cassette.play_count == 3
