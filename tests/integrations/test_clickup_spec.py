"""Every request the ClickUp client can make, checked against ClickUp's own OpenAPI files (v2 JSON, v3 YAML)."""

from __future__ import annotations

import inspect
import json
from urllib.parse import parse_qs, urlsplit

import httpx

from teamops.integrations.clickup import ClickUpClient
from teamops.integrations.clickup_docs import ClickUpDocs
from tests.fakes.clickup import TOKEN, FakeClickUp, make_task
from tests.support.openapi import check

LIST = "901200000001"
FOLDER = "901100000009"


def spec_problems(request: httpx.Request) -> list[str]:
    parts = urlsplit(str(request.url))
    body = json.loads(request.content) if request.content else None
    return check(
        request.method,
        parts.path.removeprefix("/api"),
        parse_qs(parts.query, keep_blank_values=True),
        dict(request.headers),
        body,
    )


def test_every_client_call_is_an_operation_the_spec_allows():
    sent: list[httpx.Request] = []
    with FakeClickUp() as fake:
        fake.lists[LIST] = [make_task("t1", "One", LIST)]
        fake.folders[FOLDER] = [{"id": "901200000003", "name": "Sprint 3"}]
        fake.status_times = {"t1": {"current_status": {"status": "open"}, "status_history": []}}
        client = ClickUpClient(fake.url, TOKEN)
        client._http.event_hooks["request"].append(sent.append)
        docs = ClickUpDocs(client, fake.team_id)
        called = {
            "list_tasks": lambda: list(
                client.list_tasks(
                    LIST, archived=False, include_closed=True, include_timl=True, subtasks=True, date_updated_gt=1
                )
            ),
            "team_tasks": lambda: list(
                client.team_tasks(fake.team_id, include_closed=True, subtasks=True, date_updated_gt=1)
            ),
            "workspace_lists": lambda: client.workspace_lists(fake.team_id),
            "workspaces": client.workspaces,
            "folder_lists": lambda: client.folder_lists(FOLDER),
            "time_in_status": lambda: client.time_in_status(["t1", "t2"]),
            "create_doc": lambda: docs.create_doc("Weekly", {"id": "90120000", "type": "4"}),
            "find_doc": lambda: docs.find_doc("Weekly", {"id": "90120000", "type": "4"}),
            "doc_exists": lambda: docs.doc_exists("doc1"),
            "create_page": lambda: docs.create_page("doc1", "Week 47", "# Week 47\n"),
            "replace_page": lambda: docs.replace_page("doc1", "doc1-p1", "Week 47", "# Week 47, again\n"),
        }
        for name, call in called.items():
            before = len(sent)
            call()
            assert len(sent) > before, f"{name} made no request"
        client.close()
        assert fake.violations == []
    problems = [p for r in sent for p in spec_problems(r)]
    assert problems == []
    # A new public call must be added here, so that it is checked too.
    public = {
        n
        for cls in (ClickUpClient, ClickUpDocs)
        for n, f in inspect.getmembers(cls, inspect.isfunction)
        if not n.startswith("_") and n not in ("get", "request", "close", "url")
    }
    assert public == set(called)
    # Bodies go with the Content-Type the spec requires, and so does bulk time in status (a GET).
    for r in sent:
        if r.content or "bulk_time_in_status" in r.url.path:
            assert r.headers["content-type"] == "application/json", r.url


def test_the_checker_refuses_what_the_spec_does_not_name():
    assert check("GET", "/v2/team/9012345/task", {"archived": ["true"]}, {}, None) == [
        "GET /v2/team/{team_Id}/task: query parameter 'archived' is not in the spec"
    ]
    assert (
        "required header 'Content-Type' is missing"
        in check("GET", "/v2/task/bulk_time_in_status/task_ids", {"task_ids": ["a"]}, {}, None)[0]
    )
    assert "is not a number" in check("GET", "/v2/list/L1/task", {}, {}, None)[0]
    bad_body = check(
        "PUT",
        "/v3/workspaces/9012345/docs/d/pages/p",
        {},
        {"Content-Type": "application/json"},
        {"content_edit_mode": "overwrite"},
    )
    assert bad_body and "is not one of ['replace', 'append', 'prepend']" in bad_body[0]
    assert check("DELETE", "/v2/list/1/task", {}, {}, None) == [
        "DELETE /v2/list/1/task: no such operation in ClickUp's API"
    ]
