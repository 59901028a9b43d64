"""A fake ClickUp v2 API on 127.0.0.1, faithful to the spec's shapes and paging, misbehaving on demand."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
        self.folders: dict[str, list[dict[str, Any]]] = {}
        self.team_id = "9012345"
        self.status_times: dict[str, Any] | None = {}
        self.log: list[tuple[str, dict[str, list[str]], int]] = []
        self.faults: list[Any] = []
        self.remaining = 100
        self.reset_in = 60
        self.latency = 0.0
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
                if fake.latency:
                    time.sleep(fake.latency)
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
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
        segments = path.removeprefix("/api").strip("/").split("/")
        page = int(q.get("page", ["0"])[0])
        if segments[:2] == ["v2", "list"] and len(segments) == 4 and segments[3] == "task":
            tasks = self._filter(self.lists.get(segments[2]), q)
            if tasks is None:
                return 404, {"err": "List not found", "ECODE": "ITEM_013"}, {}
            chunk = tasks[page * 100 : (page + 1) * 100]
            return 200, {"tasks": chunk, "last_page": (page + 1) * 100 >= len(tasks)}, {}
        if segments[:2] == ["v2", "team"] and len(segments) == 4 and segments[3] == "task":
            if segments[2] != self.team_id:
                return 401, {"err": "Team not authorized", "ECODE": "OAUTH_027"}, {}
            every = [t for tasks in self.lists.values() for t in tasks]
            tasks = self._filter(every, q) or []
            return 200, {"tasks": tasks[page * 100 : (page + 1) * 100]}, {}
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
