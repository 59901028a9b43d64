"""Every GraphQL document the GitHub client sends is valid against GitHub's public schema."""

from __future__ import annotations

import json

from teamops.sources.github.client import COMMIT_FIELDS, HISTORY_QUERY, GitHubClient
from tests.conftest import lines
from tests.fakes.github import FakeGitHub
from tests.support.graphql_schema import problems


def test_each_document_the_client_sends_validates_against_githubs_schema(make_repo):
    repo = make_repo("api")
    first = repo.commit("one", {"a.py": lines(3)}, date="2026-10-01T09:00:00+00:00")
    second = repo.commit("two", {"a.py": lines(5)}, date="2026-10-02T09:00:00+00:00")
    sent: list[dict] = []
    with FakeGitHub({"acme/api": repo.path}) as gh:
        client = GitHubClient(gh.url, gh.token)
        original = client._req.requestJson

        def spy(verb, url, params=None, headers=None, body=None, *args, **kwargs):
            if "graphql" in url:
                sent.append(body if isinstance(body, dict) else json.loads(body))
            return original(verb, url, params, headers, body, *args, **kwargs)

        client._req.requestJson = spy
        head = client.branch_head("acme/api", "main", None)[0]
        pages = list(client.history("acme/api", head, since="2026-09-01T00:00:00Z"))
        found = client.commits_by_oid("acme/api", [first, second])
        assert [n["oid"] for n in pages[0].nodes] == [second, first] and set(found) == {first, second}
        assert gh.violations == []
    assert len(sent) == 2
    for body in sent:
        assert problems(body["query"], body["variables"]) == [], body["query"]


def test_the_schema_check_catches_what_github_would_refuse():
    assert problems(HISTORY_QUERY.replace("committedDate", "commitedDate"))[0].startswith(
        "Cannot query field 'commitedDate' on type 'Commit'"
    )
    assert problems(HISTORY_QUERY, {"owner": 5, "name": "x", "oid": "a" * 40}) != []
    broken = COMMIT_FIELDS.replace("parents(first: 10)", "parents(last: 10, fist: 3)")
    assert any(
        "fist" in p
        for p in problems(
            'query { viewer { login } repository(owner: "a", name: "b") { object(oid: "a") { ... on Commit {'
            + broken
            + "} } } }"
        )
    )
