"""A fake Jira Cloud site on 127.0.0.1: REST v3 search (`/search/jql`, token pages, no totals), bulk changelogs,
fields, and the Agile API's boards and sprints, shaped by Atlassian's OpenAPI descriptions.

Issues are built by the test through `Site`, whose every change is both the issue's value now and an entry of
its changelog, so the changelog is the ground truth of each issue's history. Basic auth with one email and
token; the old `/rest/api/3/search` answers 410 as it has since 2025; 429 with Retry-After and 401/403/404 on
demand. Each request's query and JSON body are checked against the operations' descriptions
(tests/specs/jira/requests.json); anything they do not allow fails the test when the fake closes.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SPEC = Path(__file__).resolve().parents[1] / "specs" / "jira" / "requests.json"
EMAIL, TOKEN = "ann@acme.example", "ATATT3xFfGF0-fake-token"
POINTS = "customfield_10016"  # Story Points (company-managed)
ESTIMATE = "customfield_10026"  # Story point estimate (team-managed)
SPRINT = "customfield_10020"
OWNER = "customfield_10077"  # a user picker: the Accountable
CATEGORIES = {"To Do": "new", "In Progress": "indeterminate", "In Review": "indeterminate", "Done": "done"}
STATUS_IDS = {"To Do": "10000", "In Progress": "3", "In Review": "10002", "Done": "10001"}
FIELDS = [
    {"id": "summary", "key": "summary", "name": "Summary", "custom": False, "schema": {"type": "string"}},
    {"id": "status", "key": "status", "name": "Status", "custom": False, "schema": {"type": "status"}},
    {"id": "assignee", "key": "assignee", "name": "Assignee", "custom": False, "schema": {"type": "user"}},
    {
        "id": POINTS,
        "key": POINTS,
        "name": "Story Points",
        "custom": True,
        "schema": {"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float"},
    },
    {
        "id": ESTIMATE,
        "key": ESTIMATE,
        "name": "Story point estimate",
        "custom": True,
        "schema": {"type": "number", "custom": "com.pyxis.greenhopper.jira:jsw-story-points"},
    },
    {
        "id": SPRINT,
        "key": SPRINT,
        "name": "Sprint",
        "custom": True,
        "schema": {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint"},
    },
    {
        "id": OWNER,
        "key": OWNER,
        "name": "Owner",
        "custom": True,
        "schema": {"type": "user", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:userpicker"},
    },
]


def stamp(moment: datetime) -> str:
    """Jira's own time format: milliseconds and a numeric offset."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def user(account: str, name: str, email: str | None = None, app: bool = False) -> dict[str, Any]:
    """A user as Jira shows it; `emailAddress` only when the person lets the site show it."""
    found: dict[str, Any] = {
        "accountId": account,
        "displayName": name,
        "accountType": "app" if app else "atlassian",
        "active": True,
    }
    if email:
        found["emailAddress"] = email
    return found


def adf(text: str) -> dict[str, Any]:
    """A description in Atlassian Document Format: one paragraph per line."""
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": line}]} for line in text.split("\n")],
    }


@dataclass
class Issue:
    id: str
    key: str
    fields: dict[str, Any]
    histories: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False


class Site:
    """A Jira site's issues, boards and sprints, changed as people change them (each change in the changelog)."""

    def __init__(self) -> None:
        self.issues: dict[str, Issue] = {}
        self.boards: list[dict[str, Any]] = []
        self.sprints: dict[int, list[dict[str, Any]]] = {}
        self._next_history = 50_000
        self.version = 0  # every change moves it: a search's answer is worked out once per version

    def board(self, board_id: int, project: str) -> None:
        self.boards.append(
            {"id": board_id, "name": f"{project} board", "type": "scrum", "location": {"projectKey": project}}
        )
        self.sprints.setdefault(board_id, [])

    def sprint(
        self, board_id: int, sprint_id: int, name: str, start: datetime | None, end: datetime | None, state: str
    ) -> dict[str, Any]:
        found = {
            "id": sprint_id,
            "self": f"https://acme.atlassian.net/rest/agile/1.0/sprint/{sprint_id}",
            "state": state,
            "name": name,
            "originBoardId": board_id,
            "goal": "",
        }
        if start and end:
            found.update(startDate=stamp(start), endDate=stamp(end))
        if state == "closed" and end:
            found["completeDate"] = stamp(end)
        self.sprints[board_id].append(found)
        return found

    def issue(
        self,
        key: str,
        title: str,
        created: datetime,
        *,
        kind: str = "Story",
        points: float | None = None,
        points_field: str = POINTS,
        reporter: dict[str, Any] | None = None,
        description: str | None = None,
        parent: str | None = None,
    ) -> Issue:
        iid = str(10_000 + len(self.issues))
        fields: dict[str, Any] = {
            "summary": title,
            "status": self._status("To Do"),
            "resolution": None,
            "resolutiondate": None,
            "assignee": None,
            "reporter": reporter,
            "issuetype": {"name": kind, "subtask": kind == "Sub-task"},
            "project": {"key": key.split("-")[0]},
            "created": stamp(created),
            "updated": stamp(created),
            "description": adf(description) if description else None,
            "duedate": None,
            "parent": {"key": parent} if parent else None,
            SPRINT: None,
            OWNER: None,
            points_field: points,
        }
        found = Issue(iid, key, fields)
        self.issues[iid] = found
        self.version += 1
        return found

    def _status(self, name: str) -> dict[str, Any]:
        return {"name": name, "id": STATUS_IDS[name], "statusCategory": {"key": CATEGORIES[name]}}

    def _log(self, issue: Issue, at: datetime, author: dict[str, Any] | None, items: list[dict[str, Any]]) -> None:
        self._next_history += 1
        self.version += 1
        issue.histories.append({"id": str(self._next_history), "author": author, "created": stamp(at), "items": items})
        issue.fields["updated"] = stamp(at)

    def move(self, issue: Issue, at: datetime, status: str, by: dict[str, Any] | None = None) -> None:
        old = issue.fields["status"]["name"]
        items = [
            {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": STATUS_IDS[old],
                "fromString": old,
                "to": STATUS_IDS[status],
                "toString": status,
            }
        ]
        issue.fields["status"] = self._status(status)
        if CATEGORIES[status] == "done" and issue.fields["resolution"] is None:
            issue.fields["resolution"], issue.fields["resolutiondate"] = {"name": "Done"}, stamp(at)
            items.append({"field": "resolution", "fieldtype": "jira", "fieldId": "resolution", "toString": "Done"})
        elif CATEGORIES[status] != "done" and issue.fields["resolution"] is not None:
            old_resolution = issue.fields["resolution"]["name"]
            issue.fields["resolution"], issue.fields["resolutiondate"] = None, None
            items.append(
                {"field": "resolution", "fieldtype": "jira", "fieldId": "resolution", "fromString": old_resolution}
            )
        self._log(issue, at, by, items)

    def resolve(self, issue: Issue, at: datetime, resolution: str, by: dict[str, Any] | None = None) -> None:
        """Done with a resolution other than Done (Won't Do, Duplicate)."""
        self.move(issue, at, "Done", by)
        issue.fields["resolution"] = {"name": resolution}
        issue.histories[-1]["items"][-1]["toString"] = resolution

    def estimate(self, issue: Issue, at: datetime, points: float | None, by: dict[str, Any] | None = None) -> None:
        fid = POINTS if POINTS in issue.fields else ESTIMATE
        old = issue.fields.get(fid)
        name = "Story Points" if fid == POINTS else "Story point estimate"
        issue.fields[fid] = points

        def shown(v: float | None) -> str | None:
            return None if v is None else f"{v:g}"

        self._log(
            issue,
            at,
            by,
            [
                {
                    "field": name,
                    "fieldtype": "custom",
                    "fieldId": fid,
                    "fromString": shown(old),
                    "toString": shown(points),
                }
            ],
        )

    def plan(self, issue: Issue, at: datetime, sprints: list[dict[str, Any]], by: dict[str, Any] | None = None) -> None:
        """The issue's Sprint field now holds these sprints (a carried-over issue holds every one it was in)."""
        old = issue.fields.get(SPRINT) or []
        issue.fields[SPRINT] = [
            {k: s[k] for k in ("id", "name", "state", "boardId") if k in s} | {"boardId": s["originBoardId"]}
            for s in sprints
        ] or None
        self._log(
            issue,
            at,
            by,
            [
                {
                    "field": "Sprint",
                    "fieldtype": "custom",
                    "fieldId": SPRINT,
                    "from": ", ".join(str(s["id"]) for s in old) or None,
                    "fromString": ", ".join(s["name"] for s in old) or None,
                    "to": ", ".join(str(s["id"]) for s in sprints) or None,
                    "toString": ", ".join(s["name"] for s in sprints) or None,
                }
            ],
        )

    def assign(self, issue: Issue, at: datetime, who: dict[str, Any] | None) -> None:
        issue.fields["assignee"] = who
        self._log(issue, at, None, [{"field": "assignee", "fieldtype": "jira", "fieldId": "assignee"}])

    def rekey(self, issue: Issue, at: datetime, key: str) -> None:
        """Moved to another project: a new key, the same id."""
        old = issue.key
        issue.key = key
        issue.fields["project"] = {"key": key.split("-")[0]}
        self._log(issue, at, None, [{"field": "Key", "fieldtype": "jira", "fromString": old, "toString": key}])

    def touch(self, issue: Issue, at: datetime, **values: Any) -> None:
        """A change the changelog keeps but teamops reads as a value (a title, a description)."""
        issue.fields.update(values)
        self._log(issue, at, None, [{"field": next(iter(values)), "fieldtype": "jira"}])


class FakeJira:
    """Start with `with FakeJira(site) as jira:`; point `[jira] url` at `jira.url`."""

    def __init__(self, site: Site, now: datetime) -> None:
        self.site = site
        self.now = now  # the site's clock, for relative JQL dates
        self.spec = json.loads(SPEC.read_text(encoding="utf-8"))["operations"]
        self.log: list[tuple[str, str, int]] = []
        self.violations: list[str] = []
        self.refuse: dict[str, int] = {}  # a path prefix → the status it answers with
        self.limited = 0  # answer this many next requests with 429
        self.embedded = 100  # changelog entries a search embeds (the most recent)
        self._found: tuple[Any, list[Issue]] = (None, [])
        self.page = 100  # the most issues a search page holds (Jira's, with fields asked for)
        self.fail_search_after: int | None = None  # this many search pages answer, then 503
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeJira:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def counted(self, prefix: str = "") -> int:
        return sum(1 for _, path, _ in self.log if path.startswith(prefix))

    # -- plumbing ----------------------------------------------------------------------------------------

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("X-RateLimit-Limit", "100")
        h.send_header("X-RateLimit-Remaining", "99")
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        size = int(h.headers.get("Content-Length") or 0)
        body = json.loads(h.rfile.read(size) or b"null") if size else None
        status = self._answer(h, method, path, query, body)
        with self._lock:
            self.log.append((method, path, status))

    def _check(self, operation: str, query: dict[str, str], body: Any) -> None:
        spec = self.spec.get(operation)
        if spec is None:
            self.violations.append(f"{operation}: not an operation teamops should call")
            return
        for name, value in query.items():
            schema = spec["query"].get(name)
            if schema is None:
                self.violations.append(f"{operation}: {name} is not a query parameter")
            elif schema.get("type") == "integer" and not value.isdigit():
                self.violations.append(f"{operation}: {name}={value} is not an integer")
        if isinstance(body, dict):
            for name, value in body.items():
                schema = spec["body"].get(name)
                if schema is None:
                    self.violations.append(f"{operation}: {name} is not in its body")
                elif "maximum" in schema and isinstance(value, int) and value > schema["maximum"]:
                    self.violations.append(f"{operation}: {name}={value} over {schema['maximum']}")

    def _answer(self, h: BaseHTTPRequestHandler, method: str, path: str, query: dict[str, str], body: Any) -> int:
        expected = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
        if h.headers.get("Authorization") != expected:
            self._send(
                h,
                401,
                {"errorMessages": ["You are not authenticated. Authentication required to perform this operation."]},
            )
            return 401
        for prefix, status in self.refuse.items():
            if path.startswith(prefix):
                words = {403: "You do not have permission to see this.", 404: "The project was not found."}
                self._send(h, status, {"errorMessages": [words.get(status, "No.")], "errors": {}})
                return status
        if self.limited:
            self.limited -= 1
            self._send(h, 429, {"errorMessages": ["Rate limit exceeded."]}, {"Retry-After": "1"})
            return 429
        if path == "/rest/api/3/search" or path == "/rest/api/2/search":
            self.violations.append(f"{method} {path}: the search Atlassian removed in 2025")
            self._send(
                h,
                410,
                {"errorMessages": ["The requested API has been removed. Please migrate to /rest/api/3/search/jql."]},
            )
            return 410
        template = re.sub(r"/board/\d+/", "/board/{boardId}/", path)
        operation = f"{method} {template}"
        self._check(operation, query, body)
        if operation == "GET /rest/api/3/field":
            self._send(h, 200, FIELDS)
        elif operation == "GET /rest/api/3/myself":
            self._send(h, 200, user("5b10ac8d82e05b22cc7d4ef5", "Ann Archer", EMAIL))
        elif operation == "POST /rest/api/3/search/jql":
            self._search(h, body if isinstance(body, dict) else {})
        elif operation == "POST /rest/api/3/changelog/bulkfetch":
            self._bulk(h, body if isinstance(body, dict) else {})
        elif operation == "GET /rest/agile/1.0/board":
            boards = [b for b in self.site.boards if b["location"]["projectKey"] == query.get("projectKeyOrId")]
            self._offset(h, boards, query)
        elif operation == "GET /rest/agile/1.0/board/{boardId}/sprint":
            board = int(path.split("/")[5])
            if board not in self.site.sprints:
                self._send(h, 404, {"errorMessages": [f"Board {board} does not exist."]})
                return 404
            self._offset(h, self.site.sprints[board], query)
        else:
            self._send(h, 404, {"errorMessages": ["Not found."]})
            return 404
        return 200

    def _offset(self, h: BaseHTTPRequestHandler, items: list[Any], query: dict[str, str]) -> None:
        start, most = int(query.get("startAt", 0)), min(50, int(query.get("maxResults", 50)))
        chunk = items[start : start + most]
        self._send(
            h,
            200,
            {"maxResults": most, "startAt": start, "isLast": start + most >= len(items), "values": chunk},
        )

    # -- search ------------------------------------------------------------------------------------------

    def _matches(self, issue: Issue, jql: str) -> bool:
        projects = re.search(r"project\s+in\s*\(([^)]*)\)", jql) or re.search(r"project\s*=\s*\"?(\w+)", jql)
        if projects is not None:
            keys = {p.strip().strip('"') for p in projects.group(1).split(",")}
            if issue.key.split("-")[0] not in keys:
                return False
        since = re.search(r'updated\s*>=\s*"-(\d+)m"', jql)
        if since is not None:
            bound = self.now - timedelta(minutes=int(since.group(1)))
            if datetime.strptime(issue.fields["updated"], "%Y-%m-%dT%H:%M:%S.000+0000").replace(tzinfo=UTC) < bound:
                return False
        return True

    def _search(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        jql = str(body.get("jql") or "")
        wanted = body.get("fields")
        if not isinstance(wanted, list) or not wanted or "*all" in wanted or "*navigable" in wanted:
            self.violations.append("search: fields must be named (never all of them)")
            wanted = []
        if "ORDER BY updated ASC" not in jql:
            self.violations.append(f"search: {jql!r} is not oldest update first")
        gone = sum(1 for i in self.site.issues.values() if i.deleted)
        key = (jql, self.site.version, gone, self.now)
        if self._found[0] != key:
            listed = (i for i in self.site.issues.values() if not i.deleted and self._matches(i, jql))
            self._found = (key, sorted(listed, key=lambda i: (i.fields["updated"], int(i.id))))
        found = self._found[1]
        start = int(base64.b64decode(body["nextPageToken"]).decode()) if body.get("nextPageToken") else 0
        most = min(int(body.get("maxResults") or 50), self.page)
        if self.fail_search_after is not None:
            if self.fail_search_after <= 0:
                self._send(h, 503, {"errorMessages": ["Service unavailable."]})
                return
            self.fail_search_after -= 1
        chunk = found[start : start + most]
        issues = []
        for issue in chunk:
            shown: dict[str, Any] = {
                "id": issue.id,
                "key": issue.key,
                "self": f"https://acme.atlassian.net/rest/api/3/issue/{issue.id}",
                "fields": {k: issue.fields.get(k) for k in wanted if k in issue.fields},
            }
            if "changelog" in str(body.get("expand") or ""):
                recent = issue.histories[-self.embedded :]
                shown["changelog"] = {
                    "startAt": 0,
                    "maxResults": len(recent),
                    "total": len(issue.histories),
                    "histories": list(reversed(recent)),  # newest first, as Jira embeds them
                }
            issues.append(shown)
        page: dict[str, Any] = {"issues": issues, "isLast": start + most >= len(found)}
        if start + most < len(found):
            page["nextPageToken"] = base64.b64encode(str(start + most).encode()).decode()
        self._send(h, 200, page)

    def _bulk(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        ids = body.get("issueIdsOrKeys") or []
        fields = set(body.get("fieldIds") or [])
        if len(ids) > 1000 or len(fields) > 10:
            self.violations.append(f"bulkfetch: {len(ids)} issues and {len(fields)} fields asked (at most 1000 and 10)")
        most = int(body.get("maxResults") or 1000)
        entries = []
        for iid in ids:
            issue = self.site.issues.get(str(iid)) or next((i for i in self.site.issues.values() if i.key == iid), None)
            if issue is None:
                continue
            for history in issue.histories:
                items = [it for it in history["items"] if not fields or it.get("fieldId") in fields]
                if items:
                    entries.append((history["created"], int(issue.id), {**history, "items": items}))
        entries.sort(key=lambda e: (e[0], e[1]))
        start = int(base64.b64decode(body["nextPageToken"]).decode()) if body.get("nextPageToken") else 0
        chunk = entries[start : start + most]
        logs: dict[int, list[dict[str, Any]]] = {}
        for _, iid, history in chunk:
            logs.setdefault(iid, []).append(history)
        page: dict[str, Any] = {
            "issueChangeLogs": [{"issueId": str(iid), "changeHistories": hs} for iid, hs in logs.items()]
        }
        if start + most < len(entries):
            page["nextPageToken"] = base64.b64encode(str(start + most).encode()).decode()
        self._send(h, 200, page)
