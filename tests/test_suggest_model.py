"""`teamops task suggest --model`: real litellm calls to a fake OpenAI-compatible server, shown the team's most
similar finished tasks; cached, priced, and a dry run that sends nothing."""

from __future__ import annotations

import json

from tests.fakes.openai import FakeOpenAI
from tests.test_suggest import history, sheet

MODEL = "openai/gpt-4o-mini"


def test_a_model_sees_the_most_similar_finished_tasks_and_answers_once(cli, tmp_path):
    db = str(tmp_path / "t.db")
    rows = [*history(40), ("N-1", "Fix typo in the changelog", "spelling", "", "todo")]
    cli("--db", db, "task", "import", sheet(tmp_path / "h.csv", rows))
    dry = cli("--db", db, "task", "suggest", "--model", MODEL, "--dry-run")
    assert dry.exit_code == 0 and "nothing sent" in dry.stdout and "input tokens" in dry.stdout
    with FakeOpenAI() as fake:
        fake.default = {"points": 2, "rationale": "like the other typo fixes"}
        args = ["--db", db, "task", "suggest", "--model", MODEL, "--api-base", fake.url, "--format", "json"]
        res = cli(*args, env={"OPENAI_API_KEY": fake.key})
        assert res.exit_code == 0, res.output
        data = json.loads(res.stdout)
        assert data["rows"][0]["points"] == 2 and data["calls"] == 1 and not data["rows"][0]["cached"]
        prompt = json.dumps(fake.requests[0]["body"]["messages"])
        assert prompt.count("Fix typo in help text") == 8 and "Database schema" not in prompt  # the 8 most similar
        again = json.loads(cli(*args, env={"OPENAI_API_KEY": fake.key}).stdout)
        assert again["calls"] == 0 and again["rows"][0]["cached"] and len(fake.requests) == 1
        fake.default = "no JSON here"
        cli("--db", db, "task", "import", sheet(tmp_path / "n.csv", [("N-2", "Fix typo again", "", "", "todo")]))
        bad = cli(
            "--db",
            db,
            "task",
            "suggest",
            "csv:N-2",
            "--model",
            MODEL,
            "--api-base",
            fake.url,
            env={"OPENAI_API_KEY": fake.key},
        )
        assert bad.exit_code == 4 and "not the JSON asked for" in bad.stderr
