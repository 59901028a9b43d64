"""A fake GitLab (REST v4) on 127.0.0.1 that serves real local git repositories as projects.

It pages as GitLab documents (offset pages of at most 100, `x-next-page` and `Link`, totals left out above
10,000 records), sends `RateLimit-*` headers, wants the token in `PRIVATE-TOKEN`, and misbehaves on demand
(429 with Retry-After, 5xx, 401/403/404). Each request's parameters are checked against the ones GitLab
documents for that resource; one it does not allow fails the test when the fake closes.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

TOKEN = "glpat-FAKEfakeFAKEfake1234"
PAGING = {"page", "per_page"}
# The query parameters GitLab's REST docs list for each resource teamops reads (api/projects.md,
# api/groups.md, api/commits.md, api/merge_requests.md, api/notes.md, api/deployments.md, api/releases).
ALLOWED: dict[str, set[str]] = {
    "project": {"statistics", "license", "with_custom_attributes"},
    "group_projects": {
        "archived",
        "visibility",
        "order_by",
        "sort",
        "search",
        "simple",
        "owned",
        "starred",
        "with_issues_enabled",
        "with_merge_requests_enabled",
        "with_shared",
        "include_subgroups",
        "min_access_level",
        "with_custom_attributes",
        "with_security_reports",
        "pagination",
        "id_after",
    },
    "commits": {
        "ref_name",
        "since",
        "until",
        "path",
        "author",
        "all",
        "with_stats",
        "first_parent",
        "order",
        "trailers",
    },
    "diff": {"unidiff"},
    "merge_requests": {
        "state",
        "order_by",
        "sort",
        "milestone",
        "view",
        "labels",
        "with_labels_details",
        "created_after",
        "created_before",
        "updated_after",
        "updated_before",
        "scope",
        "author_id",
        "author_username",
        "assignee_id",
        "reviewer_id",
        "reviewer_username",
        "source_branch",
        "target_branch",
        "search",
        "in",
        "wip",
        "not",
        "environment",
        "deployed_before",
        "deployed_after",
    },
    "notes": {"sort", "order_by"},
    "mr_commits": set(),
    "deployments": {
        "order_by",
        "sort",
        "updated_after",
        "updated_before",
        "finished_after",
        "finished_before",
        "environment",
        "status",
    },
    "releases": {"order_by", "sort", "include_html_description"},
}
VALUES = {
    ("merge_requests", "order_by"): {"created_at", "updated_at", "title", "merged_at"},
    ("merge_requests", "scope"): {"created_by_me", "assigned_to_me", "all"},
    ("merge_requests", "state"): {"opened", "closed", "locked", "merged", "all"},
    ("commits", "order"): {"default", "topo"},
    ("notes", "order_by"): {"created_at", "updated_at"},
    ("deployments", "order_by"): {"id", "iid", "created_at", "updated_at", "finished_at", "ref"},
    ("releases", "order_by"): {"released_at", "created_at"},
}


def at(day: int, hour: int = 9, month: int = 10) -> str:
    return f"2026-{month:02d}-{day:02d}T{hour:02d}:00:00.000Z"


def user(username: str, name: str | None = None) -> dict[str, Any]:
    return {
        "id": abs(hash(username)) % 100_000,
        "username": username,
        "name": name or username.title(),
        "state": "active",
        "avatar_url": None,
        "web_url": f"https://gitlab.example/{username}",
    }


def merge_request(
    iid: int,
    title: str,
    author: str,
    *,
    created: str,
    updated: str | None = None,
    state: str = "merged",
    merged: str | None = None,
    merge_commit: str | None = None,
    squash_commit: str | None = None,
    draft: bool = False,
    labels: list[str] | None = None,
    source_branch: str = "topic",
    fork: bool = False,
) -> dict[str, Any]:
    """A merge request as `GET /projects/:id/merge_requests` lists it (fields as api/merge_requests.md shows)."""
    return {
        "id": 1000 + iid,
        "iid": iid,
        "project_id": 1,
        "title": title,
        "description": "",
        "state": state,
        "created_at": created,
        "updated_at": updated or merged or created,
        "merged_by": user("maintainer") if state == "merged" else None,
        "merged_at": merged if state == "merged" else None,
        "closed_by": None,
        "closed_at": None,
        "target_branch": "main",
        "source_branch": source_branch,
        "user_notes_count": 0,
        "author": user(author),
        "assignees": [],
        "reviewers": [],
        "source_project_id": 2 if fork else 1,
        "target_project_id": 1,
        "labels": labels or [],
        "draft": draft,
        "work_in_progress": draft,
        "merge_when_pipeline_succeeds": False,
        "merge_status": "can_be_merged",
        "detailed_merge_status": "mergeable",
        "sha": merge_commit or squash_commit,
        "merge_commit_sha": merge_commit,
        "squash_commit_sha": squash_commit,
        "squash": squash_commit is not None,
        "reference": f"!{iid}",
        "web_url": f"https://gitlab.example/acme/api/-/merge_requests/{iid}",
    }


def note(nid: int, author: str, body: str, created: str, *, system: bool = True) -> dict[str, Any]:
    """A note of `GET .../merge_requests/:iid/notes` (system notes are GitLab's own record of events)."""
    return {
        "id": nid,
        "type": None,
        "body": body,
        "author": user(author),
        "created_at": created,
        "updated_at": created,
        "system": system,
        "noteable_id": 1,
        "noteable_type": "MergeRequest",
        "noteable_iid": 1,
        "resolvable": False,
        "confidential": False,
        "internal": False,
    }


def deployment(ident: int, sha: str, status: str, finished: str, environment: str = "production") -> dict[str, Any]:
    """A deployment of `GET /projects/:id/deployments`."""
    return {
        "id": ident,
        "iid": ident % 1000,
        "ref": "main",
        "sha": sha,
        "created_at": finished,
        "updated_at": finished,
        "finished_at": finished if status in ("success", "failed", "canceled") else None,
        "status": status,
        "user": user("deployer"),
        "environment": {"id": 1, "name": environment},
        "deployable": {"id": ident + 5000, "status": status, "stage": "deploy", "name": "deploy"},
    }


@dataclass
class Project:
    path: Path
    default_branch: str = "main"
    archived: bool = False
    fork: bool = False
    merge_requests: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    mr_commits: dict[int, list[str]] = field(default_factory=dict)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=list)
    loaded: dict[str, dict[str, Any]] = field(default_factory=dict)  # sha → commit, as the API shows it


class FakeGitLab:
    """Start with `with FakeGitLab({"acme/api": path}) as gl:`; point teamops at `gl.url`."""

    def __init__(self, projects: dict[str, Path], token: str = TOKEN) -> None:
        self.projects = {name: Project(path) for name, path in projects.items()}
        self.token = token
        self.log: list[tuple[str, dict[str, list[str]], int]] = []
        self.violations: list[str] = []
        self.faults: list[tuple[int, int, str]] = []  # (status, times, on path part)
        self.remaining = 2000
        self.reset_at = int(time.time()) + 60
        self.retry_after = 1
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitLab:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        if exc[0] is None:
            assert not self.violations, "requests GitLab's docs do not allow:\n" + "\n".join(self.violations)

    def fail(self, status: int, times: int = 1, on: str = "") -> None:
        self.faults.append((status, times, on))

    def requests(self, part: str = "") -> int:
        return sum(1 for path, _, _ in self.log if part in path)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return None

            def do_GET(self) -> None:
                fake._serve(self)

        return Handler

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("RateLimit-Limit", "2000")
        h.send_header("RateLimit-Remaining", str(max(self.remaining, 0)))
        h.send_header("RateLimit-Reset", str(self.reset_at))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        path = parts.path
        with self.lock:
            fault = next((f for f in self.faults if f[2] in path), None)
            if fault is not None:
                i = self.faults.index(fault)
                self.faults[i] = (fault[0], fault[1] - 1, fault[2])
                if fault[1] <= 1:
                    self.faults.pop(i)
            self.remaining -= 1
        if h.headers.get("PRIVATE-TOKEN") != self.token:
            return self._answer(h, path, query, 401, {"message": "401 Unauthorized"})
        if fault is not None:
            extra = {"Retry-After": str(self.retry_after)} if fault[0] == 429 else {}
            body = {"message": "This endpoint has been requested too many times. Try again later."}
            return self._answer(h, path, query, fault[0], body if fault[0] == 429 else {"message": "boom"}, extra)
        try:
            status, body, headers = self._route(path, query)
        except KeyError:
            status, body, headers = 404, {"message": "404 Project Not Found"}, {}
        self._answer(h, path, query, status, body, headers)

    def _answer(
        self, h: BaseHTTPRequestHandler, path: str, query: Any, status: int, body: Any, headers: Any = None
    ) -> None:
        with self.lock:
            self.log.append((path, query, status))
        self._send(h, status, body, headers)

    def _check(self, resource: str, query: dict[str, list[str]]) -> None:
        for key, values in query.items():
            if key not in ALLOWED[resource] | PAGING:
                self.violations.append(f"{resource}: {key} is not a documented parameter")
            allowed = VALUES.get((resource, key))
            if allowed and values[0] not in allowed:
                self.violations.append(f"{resource}: {key}={values[0]} is not an allowed value")
        per_page = int(query.get("per_page", ["20"])[0])
        if not 1 <= per_page <= 100:
            self.violations.append(f"{resource}: per_page={per_page} (GitLab allows at most 100)")
        dated = "updated_after" in query or "updated_before" in query
        if resource == "deployments" and dated and query.get("order_by", [""])[0] != "updated_at":
            self.violations.append("deployments: updated_after/updated_before need order_by=updated_at")

    def _page(self, items: list[Any], query: dict[str, list[str]], base: str) -> tuple[int, Any, dict[str, str]]:
        per_page = int(query.get("per_page", ["20"])[0])
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * per_page : page * per_page]
        more = page * per_page < len(items)
        headers = {"x-page": str(page), "x-per-page": str(per_page), "x-next-page": str(page + 1) if more else ""}
        if len(items) <= 10_000:  # above, GitLab leaves the totals out
            headers |= {"x-total": str(len(items)), "x-total-pages": str(max(1, -(-len(items) // per_page)))}
        if more:
            params = {k: v[0] for k, v in query.items()} | {"page": str(page + 1), "per_page": str(per_page)}
            link = f"{self.url}{base}?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())
            headers["Link"] = f'<{link}>; rel="next"'
        return 200, chunk, headers

    def _project(self, ident: str) -> tuple[str, Project]:
        name = unquote(ident)
        return name, self.projects[name]

    def _route(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        m = re.fullmatch(r"/api/v4/groups/([^/]+)/projects", path)
        if m:
            self._check("group_projects", query)
            group = unquote(m.group(1))
            subgroups = query.get("include_subgroups", ["false"])[0] == "true"
            found = []
            for name, p in sorted(self.projects.items()):
                parent = name.rsplit("/", 1)[0]
                if parent != group and not (subgroups and parent.startswith(group + "/")):
                    continue
                if query.get("archived", [""])[0] == "false" and p.archived:
                    continue
                found.append(self._project_json(name, p))
            if not found and not any(n.startswith(group + "/") for n in self.projects):
                raise KeyError(group)
            return self._page(found, query, path)
        m = re.fullmatch(r"/api/v4/projects/([^/]+)(/.*)?", path)
        if not m:
            raise KeyError(path)
        name, project = self._project(m.group(1))
        rest = m.group(2) or ""
        if rest == "":
            self._check("project", query)
            return 200, self._project_json(name, project), {}
        if rest == "/repository/commits":
            self._check("commits", query)
            return self._page(self._commits(project, query), query, path)
        dm = re.fullmatch(r"/repository/commits/([0-9a-f]{40})/diff", rest)
        if dm:
            self._check("diff", query)
            return self._page(self._diff(project, dm.group(1)), query, path)
        if rest == "/merge_requests":
            self._check("merge_requests", query)
            listed = list(project.merge_requests)
            after = query.get("updated_after", [None])[0]
            if after:
                listed = [mr for mr in listed if mr["updated_at"] >= after]
            key = query.get("order_by", ["created_at"])[0]
            listed.sort(key=lambda mr: (mr[key] or "", mr["id"]), reverse=query.get("sort", ["desc"])[0] == "desc")
            return self._page(listed, query, path)
        nm = re.fullmatch(r"/merge_requests/(\d+)/(notes|commits)", rest)
        if nm:
            iid = int(nm.group(1))
            if nm.group(2) == "notes":
                self._check("notes", query)
                items = sorted(project.notes.get(iid, []), key=lambda n: (n["created_at"], n["id"]))
                if query.get("sort", ["desc"])[0] == "desc":
                    items.reverse()
            else:
                self._check("mr_commits", query)
                shas = project.mr_commits.get(iid, [])
                items = [self._commit_json(project, s) for s in reversed(shas)]
            return self._page(items, query, path)
        if rest == "/deployments":
            self._check("deployments", query)
            env = query.get("environment", [None])[0]
            listed = [d for d in project.deployments if env is None or d["environment"]["name"] == env]
            after = query.get("updated_after", [None])[0]
            if after:
                listed = [d for d in listed if d["updated_at"] > after]  # GitLab's updated_after is exclusive
            key = query.get("order_by", ["id"])[0]
            listed.sort(key=lambda d: (d[key] or "", d["id"]), reverse=query.get("sort", ["asc"])[0] == "desc")
            return self._page(listed, query, path)
        if rest == "/releases":
            self._check("releases", query)
            listed = sorted(project.releases, key=lambda r: r["released_at"], reverse=True)
            return self._page(listed, query, path)
        raise KeyError(rest)

    def _project_json(self, name: str, p: Project) -> dict[str, Any]:
        return {
            "id": abs(hash(name)) % 10_000,
            "path_with_namespace": name,
            "name": name.rsplit("/", 1)[-1],
            "default_branch": p.default_branch,
            "archived": p.archived,
            "empty_repo": False,
            **({"forked_from_project": {"id": 9}} if p.fork else {}),
            "web_url": f"https://gitlab.example/{name}",
        }

    def _git(self, project: Project, *args: str) -> str:
        return subprocess.run(["git", "-C", str(project.path), *args], capture_output=True, check=True).stdout.decode(
            "utf-8", "replace"
        )

    def _commits(self, project: Project, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        ref = query.get("ref_name", [project.default_branch])[0]
        args = ["rev-list", "--topo-order" if query.get("order", [""])[0] == "topo" else "--date-order"]
        for key in ("since", "until"):
            if key in query:
                args.append(f"--{'after' if key == 'since' else 'before'}={query[key][0]}")
        shas = self._git(project, *args, ref, "--").split()
        if any(sha not in project.loaded for sha in shas):
            self._load(project)
        return [self._commit_json(project, s, query.get("with_stats", ["false"])[0] == "true") for s in shas]

    def _commit_json(self, project: Project, sha: str, stats: bool = False) -> dict[str, Any]:
        if sha not in project.loaded:
            self._load(project)
        data = dict(project.loaded[sha])
        stat = data.pop("stats")
        if stats:
            data["stats"] = stat
        return data

    def _load(self, project: Project) -> None:
        """Every commit of the repository, read once with one `git log` (again after new commits)."""
        fmt = "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cn%x1f%ce%x1f%cI%x1f%B%x1f"
        out = self._git(project, "log", "--all", "--numstat", f"--format={fmt}")
        for block in out.split("\x1e")[1:]:
            sha, parents, an, ae, ad, cn, ce, cd, body, numstat = block.split("\x1f", 9)
            adds = dels = 0
            if len(parents.split()) <= 1:  # GitLab's stats of a merge are its diff against the first parent
                for line in numstat.strip().splitlines():
                    a, d, _ = line.split("\t", 2)
                    adds += 0 if a == "-" else int(a)
                    dels += 0 if d == "-" else int(d)
            project.loaded[sha] = {
                "id": sha,
                "short_id": sha[:8],
                "title": body.split("\n", 1)[0],
                "message": body.rstrip("\n") + "\n",
                "author_name": an,
                "author_email": ae,
                "authored_date": ad,
                "committer_name": cn,
                "committer_email": ce,
                "committed_date": cd,
                "created_at": cd,
                "parent_ids": parents.split(),
                "web_url": f"https://gitlab.example/-/commit/{sha}",
                "stats": {"additions": adds, "deletions": dels, "total": adds + dels},
            }

    def _diff(self, project: Project, sha: str) -> list[dict[str, Any]]:
        names = self._git(project, "show", "--name-only", "--format=", sha).split()
        return [
            {
                "old_path": n,
                "new_path": n,
                "diff": self._git(project, "show", "--format=", sha, "--", n),
                "new_file": False,
            }
            for n in names
        ]


def merge_requests_from_merges(fake: FakeGitLab, name: str, count: int) -> int:
    """Merge requests for a served project's first `count` merge commits (each merged as GitLab merges: a
    merge commit), with a review request and an approval each; how many there are."""
    project = fake.projects[name]
    merges = fake._git(project, "log", "--merges", "--reverse", "--format=%H %cI", "main").split("\n")
    made = 0
    for i, line in enumerate(m for m in merges if m.strip()):
        if made >= count:
            break
        sha, when = line.split()
        stamp = when.replace("+00:00", "Z")
        iid = i + 1
        project.merge_requests.append(
            merge_request(iid, f"Change {iid}", "ann", created=stamp, merged=stamp, merge_commit=sha)
        )
        project.notes[iid] = [
            note(iid * 10 + 1, "ann", "requested review from @bob", stamp),
            note(iid * 10 + 2, "bob", "approved this merge request", stamp),
        ]
        made += 1
    return made
