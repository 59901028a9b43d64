"""A fake ClickUp API (v2 tasks, v3 Docs) on 127.0.0.1, faithful to the spec's shapes and paging, misbehaving on demand.

Every request it receives is checked against ClickUp's own OpenAPI files (tests/specs/clickup): a request the
spec does not allow fails the test that made it, when the fake closes.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.openapi import check

TOKEN = "pk_81234_FAKETOKENFAKETOKEN"


def user(uid: int, name: str, email: str) -> dict[str, Any]:
    return {
        "id": uid,
        "username": name,
        "email": email,
        "color": "#7b68ee",
        "initials": name[:2].upper(),
        "profilePicture": None,
    }


def users_field(name: str, people: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": f"cf-{name.lower()}",
        "name": name,
        "type": "users",
        "type_config": {"include_guests": False, "include_team_members": True, "single_user": False},
        "date_created": "1618440378816",
        "hide_from_guests": False,
        "value": people,
        "required": False,
    }


def make_task(
    tid: str,
    name: str,
    list_id: str,
    *,
    status: str = "to do",
    status_type: str = "open",
    updated: int = 1_795_000_000_000,
    points: Any = None,
    estimate: Any = None,
    spent: Any = None,
    assignees: list[dict[str, Any]] | None = None,
    raci: dict[str, list[dict[str, Any]]] | None = None,
    due: Any = None,
    archived: bool = False,
    parent: str | None = None,
    extra_fields: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A task in the shape GET /v2/list/{id}/task returns (dates as ms strings, mixed number types)."""
    fields = [users_field(role, people) for role, people in (raci or {}).items()] + (extra_fields or [])
    return {
        "id": tid,
        "custom_id": None,
        "custom_item_id": 0,
        "name": name,
        "text_content": "",
        "description": "",
        "status": {"id": f"s-{status}", "status": status, "color": "#d3d3d3", "orderindex": 1, "type": status_type},
        "orderindex": "1.0",
        "date_created": str(updated - 86_400_000),
        "date_updated": str(updated),
        "date_closed": str(updated) if status_type == "closed" else None,
        "date_done": str(updated) if status_type in ("closed", "done") else None,
        "archived": archived,
        "creator": user(1, "Creator", "creator@acme.io"),
        "assignees": assignees or [],
        "group_assignees": [],
        "watchers": [],
        "checklists": [],
        "tags": [],
        "parent": parent,
        "top_level_parent": parent,
        "priority": None,
        "due_date": due,
        "start_date": None,
        "points": points,
        "time_estimate": estimate,
        "time_spent": spent,
        "custom_fields": fields,
        "dependencies": [],
        "linked_tasks": [],
        "locations": [],
        "list": {"id": list_id, "name": f"List {list_id}", "access": True},
        "project": {"id": "p1", "name": "Project", "hidden": False, "access": True},
        "folder": {"id": "f1", "name": "Folder", "hidden": False, "access": True},
        "space": {"id": "s1"},
        "team_id": "9012345",
        "url": f"https://app.clickup.com/t/{tid}",
        "permission_level": "create",
    }


class FakeClickUp:
    def __init__(self) -> None:
        self.lists: dict[str, list[dict[str, Any]]] = {}
        self.timl: dict[str, list[dict[str, Any]]] = {}  # list id -> tasks added to it from another home list
        self.violations: list[str] = []
        self.folders: dict[str, list[dict[str, Any]]] = {}
        self.team_id = "9012345"
        self.status_times: dict[str, Any] | None = {}
        self.log: list[tuple[str, dict[str, list[str]], int]] = []
        self.faults: list[Any] = []
        self.remaining = 100
        self.reset_in = 60
        self.latency = 0.0
        self.docs: dict[str, dict[str, Any]] = {}
        self.pages: dict[str, dict[str, dict[str, Any]]] = {}
        self.bodies: list[tuple[str, str, Any]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeClickUp:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        if exc[0] is None:
            assert not self.violations, "requests ClickUp's spec does not allow:\n" + "\n".join(self.violations)

    def paths(self) -> list[str]:
        return [p for p, _, _ in self.log]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

            def do_PUT(self) -> None:
                self._answer("PUT")

            def _answer(self, method: str) -> None:
                if fake.latency:
                    time.sleep(fake.latency)
                parts = urlsplit(self.path)
                query = parse_qs(parts.query, keep_blank_values=True)
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"null") if length else None
                problems = check(method, parts.path.removeprefix("/api"), query, dict(self.headers), payload)
                with fake.lock:
                    fake.violations += problems
                if "/v3/" in parts.path:
                    with fake.lock:
                        fake.bodies.append((method, parts.path, payload))
                    status, body, headers = fake._docs(
                        self.headers.get("Authorization"), method, parts.path, query, payload
                    )
                else:
                    status, body, headers = fake._route(self.headers.get("Authorization"), parts.path, query)
                with fake.lock:
                    fake.log.append((parts.path, query, status))
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                merged = {
                    "Content-Type": "application/json",
                    "Content-Length": str(len(raw)),
                    "X-RateLimit-Limit": "100",
                    "X-RateLimit-Remaining": str(fake.remaining),
                    "X-RateLimit-Reset": str(int(time.time()) + fake.reset_in),
                    **headers,
                }
                for k, v in merged.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

        return Handler

    def _docs(
        self, auth: str | None, method: str, path: str, q: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        """ClickUp API v3 Docs: docs and pages kept in memory; deleting one makes it answer 404."""
        if auth != TOKEN:
            return 401, {"err": "Token invalid", "ECODE": "OAUTH_025"}, {}
        seg = path.removeprefix("/api").strip("/").split("/")  # v3 workspaces WS docs [DOC [pages [PAGE]]]
        if seg[:2] != ["v3", "workspaces"] or len(seg) < 4 or seg[2] != self.team_id:
            return 401, {"err": "Team not authorized", "ECODE": "OAUTH_027"}, {}
        stamp = int(time.time() * 1000)
        if len(seg) == 4 and method == "GET":
            docs = [d for d in self.docs.values() if not d["deleted"]]
            if "parent_id" in q:
                docs = [d for d in docs if d["parent"]["id"] == q["parent_id"][0]]
            return 200, {"docs": docs, "next_cursor": None}, {}
        if len(seg) == 4 and method == "POST":
            doc_id = f"doc{len(self.docs) + 1}"
            parent = body.get("parent") or {"id": self.team_id, "type": 12}
            self.docs[doc_id] = {
                "id": doc_id,
                "name": body["name"],
                "date_created": stamp,
                "type": 1,
                "parent": {"id": str(parent["id"]), "type": parent["type"]},
                "public": False,
                "workspace_id": int(self.team_id),
                "creator": 81234,
                "deleted": False,
                "archived": False,
            }
            self.pages[doc_id] = {}
            return 200, self.docs[doc_id], {}
        doc = self.docs.get(seg[4])
        if doc is None or doc["deleted"]:
            return 404, {"err": "Doc not found", "ECODE": "DOCS_404"}, {}
        if len(seg) == 5:
            return 200, doc, {}
        pages = self.pages[doc["id"]]
        if len(seg) == 6 and method == "POST":
            page_id = f"{doc['id']}-p{len(pages) + 1}"
            pages[page_id] = {
                "id": page_id,
                "doc_id": doc["id"],
                "workspace_id": int(self.team_id),
                "name": body["name"],
                "content": body.get("content", ""),
                "date_created": stamp,
                "creator_id": 81234,
                "authors": [81234],
                "format": body.get("content_format"),
            }
            return 200, pages[page_id], {}
        if len(seg) == 7:
            page = pages.get(seg[6])
            if page is None:
                return 404, {"err": "Page not found", "ECODE": "DOCS_405"}, {}
            if method == "PUT":
                if body.get("content_edit_mode") == "replace":
                    page["content"] = body["content"]
                page["name"] = body.get("name", page["name"])
                return 200, b"", {}
            return 200, page, {}
        return 404, {"err": "Route not found", "ECODE": "APP_001"}, {}

    def _route(self, auth: str | None, path: str, q: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
            self.remaining = max(0, self.remaining - 1)
        if auth != TOKEN:
            return 401, {"err": "Token invalid", "ECODE": "OAUTH_025"}, {}
        if fault == "429":
            return (
                429,
                {"err": "Rate limit reached", "ECODE": "APP_002"},
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 1)},
            )
        if fault == "500":
            return 500, {"err": "Internal error"}, {}
        if fault == "team401":
            return 401, {"err": "Team not authorized", "ECODE": "OAUTH_027"}, {}
        if fault == "error_form":
            return 400, {"error": "Invalid query parameter", "code": "PARAM_001"}, {}
        if fault == "bad_json":
            return 200, b'{"tasks": [', {}
        if fault == "deep_json":  # nested deeper than any parser reads
            return 200, b"[" * 200_000 + b"]" * 200_000, {}
        segments = path.removeprefix("/api").strip("/").split("/")
        page = int(q.get("page", ["0"])[0])
        if segments == ["v2", "team"]:
            return (
                200,
                {"teams": [{"id": self.team_id, "name": "Acme", "color": "#000", "avatar": None, "members": []}]},
                {},
            )
        if segments[:2] == ["v2", "list"] and len(segments) == 4 and segments[3] == "task":
            home = self.lists.get(segments[2])
            if home is not None and q.get("include_timl", ["false"])[0] == "true":
                home = home + self.timl.get(segments[2], [])
            tasks = self._filter(home, q)
            if tasks is None:
                return 404, {"err": "List not found", "ECODE": "ITEM_013"}, {}
            chunk = tasks[page * 100 : (page + 1) * 100]
            return 200, {"tasks": chunk, "last_page": (page + 1) * 100 >= len(tasks)}, {}
        if segments[:2] == ["v2", "team"] and len(segments) == 4 and segments[3] == "task":
            if segments[2] != self.team_id:
                return 401, {"err": "Team not authorized", "ECODE": "OAUTH_027"}, {}
            # Get Filtered Team Tasks has no `archived` parameter: it lists tasks that are not archived.
            every = [t for tasks in self.lists.values() for t in tasks]
            tasks = self._filter(every, {**q, "archived": ["false"]}) or []
            return 200, {"tasks": tasks[page * 100 : (page + 1) * 100]}, {}
        if segments[:2] == ["v2", "team"] and segments[3:] == ["space"]:
            return 200, {"spaces": [{"id": "90130000001", "name": "Space", "private": False, "archived": False}]}, {}
        if segments[:3] == ["v2", "space", "90130000001"] and segments[3:] == ["folder"]:
            folders = [
                {"id": f, "name": f"Folder {f}", "archived": False, "lists": ls} for f, ls in self.folders.items()
            ]
            return 200, {"folders": folders}, {}
        if segments[:3] == ["v2", "space", "90130000001"] and segments[3:] == ["list"]:
            in_folders = {str(x["id"]) for ls in self.folders.values() for x in ls}
            loose = [{"id": lid, "name": f"List {lid}"} for lid in self.lists if lid not in in_folders]
            return 200, {"lists": loose}, {}
        if segments[:2] == ["v2", "folder"] and len(segments) == 4 and segments[3] == "list":
            return 200, {"lists": self.folders.get(segments[2], [])}, {}
        if segments[:3] == ["v2", "task", "bulk_time_in_status"]:
            ids = q.get("task_ids", [])
            if self.status_times is None:
                return 400, {"err": "Time in Status is not enabled for this workspace", "ECODE": "TIS_001"}, {}
            if len(ids) > 100:
                return 400, {"err": "Too many task ids", "ECODE": "TIS_002"}, {}
            return 200, {i: self.status_times[i] for i in ids if i in self.status_times}, {}
        return 404, {"err": "Route not found", "ECODE": "APP_001"}, {}

    @staticmethod
    def _filter(tasks: list[dict[str, Any]] | None, q: dict[str, list[str]]) -> list[dict[str, Any]] | None:
        if tasks is None:
            return None
        archived = q.get("archived", ["false"])[0] == "true"
        closed = q.get("include_closed", ["false"])[0] == "true"
        since = int(q["date_updated_gt"][0]) if "date_updated_gt" in q else None
        out = []
        for t in tasks:
            if bool(t["archived"]) != archived:
                continue
            if not closed and t["status"]["type"] == "closed":
                continue
            if since is not None and int(t["date_updated"]) <= since:
                continue
            out.append(t)
        return out
