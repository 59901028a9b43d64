"""A fake GitHub (REST + GraphQL) on 127.0.0.1 that serves real local git repositories.

It paginates like GitHub, counts requests and rate limit, answers conditional requests with 304, and
misbehaves on demand: primary and secondary rate limits, GraphQL RATE_LIMITED, 5xx, 401, bad JSON and
connections dropped mid-response.

It holds requests to GitHub's documents: every GraphQL document is validated against GitHub's public
schema, and REST parameters must stay within the documented limits; what breaks them fails the test
when the fake closes.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tests.support.graphql_schema import problems as graphql_problems

# Get-a-commit: files come 300 a page (per_page is documented up to 100), 3,000 at most in all.
FILES_PAGE = 300
FILES_LISTED = 3000


@dataclass
class Fault:
    """Misbehave `times` times on requests whose kind is `on` ('graphql', 'rest' or 'any')."""

    kind: str
    on: str = "any"
    times: int = 1
    wait: int = 2
    after: int = 0


class QuietServer(ThreadingHTTPServer):
    """A server that takes a client hanging up mid-answer as real servers do: without a traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class ServedRepo:
    path: Path
    commits: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_branch: str = "main"
    # GraphQL Release and Deployment nodes, newest first, as the delivery query reads them
    releases: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    archived: bool = False
    fork: bool = False
    # GraphQL PullRequest nodes with every review, timeline item and commit (the fake pages them)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    # Actions: workflows (REST objects) and their runs (REST workflow-run objects with workflow_id)
    workflows: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    # Issues as REST lists them (a pull request is an issue with a `pull_request` key)
    issues: list[dict[str, Any]] = field(default_factory=list)


def load_commits(path: Path) -> dict[str, dict[str, Any]]:
    """Every commit of a repository with what GitHub's GraphQL Commit node reports."""
    fmt = "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cI%x1f%B%x1f"
    out = subprocess.run(
        ["git", "-C", str(path), "log", "--all", "--numstat", f"--format={fmt}"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", "replace")
    commits: dict[str, dict[str, Any]] = {}
    for block in out.split("\x1e")[1:]:
        sha, parents, name, email, adate, cdate, message, stats = block.split("\x1f", 7)
        adds = dels = files = 0
        for line in stats.strip().splitlines():
            a, d, _ = line.split("\t", 2)
            files += 1
            adds += 0 if a == "-" else int(a)
            dels += 0 if d == "-" else int(d)
        plist = parents.split()
        commits[sha] = {
            "oid": sha,
            "message": message.rstrip("\n"),
            "committedDate": cdate,
            "authoredDate": adate,
            "additions": 7 if len(plist) > 1 else adds,  # GitHub diffs merges against a parent
            "deletions": 3 if len(plist) > 1 else dels,
            "changedFilesIfAvailable": files,
            "parents": {"totalCount": len(plist), "nodes": [{"oid": p} for p in plist]},
            "author": {"name": name, "email": email, "user": None},
        }
    return commits


class FakeGitHub:
    """Start with `with FakeGitHub({...}) as gh:`; point teamops at `gh.url`."""

    def __init__(self, repos: dict[str, Path], token: str = "ghs_faketoken_123", logins: dict[str, str] | None = None):
        self.repos = {name: ServedRepo(path, load_commits(path)) for name, path in repos.items()}
        self.token = token
        self.logins = {k.lower(): v for k, v in (logins or {}).items()}
        self.faults: list[Fault] = []
        self._orders: dict[tuple[str, ...], list[str]] = {}
        self.latency = 0.0
        self.log: list[tuple[str, str, int]] = []
        self.violations: list[str] = []
        self._counts: dict[str, str] = {}  # rev-list --count of a served branch
        self._shown: dict[str, str] = {}  # git show of a commit, read once for all its pages
        self.diff_unavailable = False  # the diff media type answers 406, as GitHub does for huge diffs
        self.remaining = 5000
        # With `limit`, the primary limit is enforced as GitHub does: at 0, 403 until the window resets
        # (`window` seconds long), then `limit` again.
        self.limit: int | None = None
        self.window = 3600
        self.stamps: list[float] = []  # when each logged answer was sent (monotonic)
        self.owners: dict[str, str] = {}  # login → "Organization" or "User"; owners of served repos are Users
        # Hold every GraphQL request after the first `hold_after` until `release` is set: a test
        # can kill a client at a known point instead of racing it.
        self.refused: dict[str, int] = {}  # listing kind → status, as for a token without that permission
        self.hold_after: int | None = None
        self.release = threading.Event()
        # Copilot usage reports per organisation (served as GitHub's signed report files)
        self.copilot: dict[str, CopilotReports] = {}
        self.downloads: list[tuple[str, str]] = []  # (file, Authorization header sent with it)
        self.graphql_seen = 0
        self.reset_at = int(time.time()) + 3600
        self.lock = threading.Lock()
        self.server = QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        if exc[0] is None:
            assert not self.violations, "requests GitHub's documents do not allow:\n" + "\n".join(self.violations)

    def refresh(self, name: str) -> None:
        """Re-read a repository after new commits were made in it."""
        self.repos[name].commits = load_commits(self.repos[name].path)
        self._orders.clear()
        self._counts.clear()

    def fail(self, kind: str, on: str = "any", times: int = 1, wait: int = 2) -> None:
        self.faults.append(Fault(kind, on, times, wait))

    def counted(self) -> int:
        """Requests GitHub would count against the rate limit (304s are free)."""
        return sum(1 for _, _, status in self.log if status != 304)

    # -- serving ---------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # small header and body writes: no 40 ms delayed-ACK stalls

            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                fake._serve(self, "GET", b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:  # the client died mid-request: a real server never sees it
                    self.close_connection = True
                    return
                fake._serve(self, "POST", body)

        return Handler

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        counted: bool = True,
    ) -> None:
        with self.lock:
            if counted and status != 304:
                self.remaining = max(0, self.remaining - 1)
            self.log.append((h.command, h.path, status))
            self.stamps.append(time.monotonic())
            remaining = self.remaining
        raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
        h.send_response(status)
        ctype = "application/json; charset=utf-8" if not isinstance(body, bytes) else "text/plain"
        headers = {"Content-Type": ctype, "Content-Length": str(len(raw)), **(headers or {})}
        merged = {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(self.reset_at),
            **(headers or {}),
        }
        for k, v in merged.items():
            h.send_header(k, v)
        h.end_headers()
        if status != 304:
            try:
                h.wfile.write(raw)
            except ConnectionError:  # the client stopped reading (a file over its size limit): as a server sees it
                h.close_connection = True

    def _fault_for(self, kind: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.on in (kind, "any"):
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    fault.times -= 1
                    return fault
        return None

    def _serve(self, h: BaseHTTPRequestHandler, verb: str, body: bytes) -> None:
        if self.latency:
            time.sleep(self.latency)
        if h.path.startswith("/_reports/"):
            self._report_file(h)
            return
        auth = h.headers.get("Authorization", "")
        if auth not in (f"token {self.token}", f"Bearer {self.token}"):
            self._send(h, 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
            return
        kind = "graphql" if h.path.startswith("/graphql") or h.path.startswith("/api/graphql") else "rest"
        if self.limit is not None and self._spent():
            self._send(
                h,
                403,
                {"message": "API rate limit exceeded for user ID 1."},
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(self.reset_at)},
                counted=False,
            )
            return
        fault = self._fault_for(kind)
        if fault and self._misbehave(h, fault):
            return
        if kind == "graphql":
            with self.lock:
                self.graphql_seen += 1
                held = self.hold_after is not None and self.graphql_seen > self.hold_after
            if held:
                self.release.wait(120)
            self._graphql(h, json.loads(body or b"{}"))
        else:
            self._rest(h)

    def _copilot(
        self, h: BaseHTTPRequestHandler, path: str, org: str, report: str, span: str, params: dict[str, str]
    ) -> None:
        """The download links of a report, as GitHub answers them; the files are served by `_report_file`."""
        template = re.sub(r"^/orgs/[^/]+/", "/orgs/{org}/", path)
        self.violations += copilot_problems(template, params)
        if "copilot" in self.refused:
            status = self.refused["copilot"]
            self._send(
                h, status, {"message": "Resource not accessible by integration" if status == 403 else "Not Found"}
            )
            return
        reports = self.copilot.get(org)
        if reports is None or reports.latest is None:
            self._send(h, 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
            return
        if span == "1-day":
            day = params.get("day", "")
            if day not in reports.users and day not in reports.pulls:
                self._send(h, 404, {"message": "Not Found"})
                return
            days = [day]
            answer: dict[str, Any] = {"report_day": day}
        else:
            end = reports.latest
            days = [d for d in reports.known() if d <= end][-28:]
            answer = {"report_start_day": days[0], "report_end_day": end}
        records = (
            ([reports.day_total(d) for d in days] if span == "1-day" else [reports.totals(days)])
            if report == "organization"
            else [u for d in days for u in reports.users.get(d, [])]
        )
        parts = max(1, min(reports.files, len(records)))
        links = []
        for n in range(parts):
            name = f"{org}-{report}-{span.replace('/', '-')}-{days[-1]}-{n}.json"
            chunk = records[n::parts]
            reports.served[name] = reports.body(chunk)
            links.append(f"{self.url}/_reports/{name}?sig={reports.signature}&se=2099-01-01")
        self._send(h, 200, {"download_links": links, **answer})

    def _report_file(self, h: BaseHTTPRequestHandler) -> None:
        """A signed report file: the signature is the credential, and a client that also sends its GitHub token
        to the storage host leaks it."""
        path, _, query = h.path.partition("?")
        name = path.rsplit("/", 1)[1]
        auth = h.headers.get("Authorization", "")
        with self.lock:
            self.downloads.append((name, auth))
            self.log.append((h.command, path, 200))
        if auth:
            self.violations.append(f"a report file was fetched with an Authorization header ({name})")
        for reports in self.copilot.values():
            if name in reports.served:
                if f"sig={reports.signature}" not in query:
                    self._send(h, 403, b"<Error><Code>AuthenticationFailed</Code></Error>", counted=False)
                    return
                self._send(h, 200, reports.served[name], {"Content-Type": "application/octet-stream"}, counted=False)
                return
        self._send(h, 404, b"<Error><Code>BlobNotFound</Code></Error>", counted=False)

    def _spent(self) -> bool:
        """Whether the primary limit is spent now (a new window starts when the old one ends)."""
        with self.lock:
            if time.time() >= self.reset_at:
                self.remaining, self.reset_at = int(self.limit or 0), int(time.time()) + self.window
            return self.remaining <= 0

    def _misbehave(self, h: BaseHTTPRequestHandler, fault: Fault) -> bool:
        reset = str(int(time.time()) + fault.wait)
        if fault.kind == "primary":
            self._send(
                h,
                403,
                {"message": "API rate limit exceeded for user ID 1."},
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
            )
        elif fault.kind == "secondary":
            self._send(
                h,
                403,
                {
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
                },
                {"Retry-After": str(fault.wait)},
            )
        elif fault.kind == "429":
            self._send(h, 429, {"message": "Too many requests"}, {"Retry-After": str(fault.wait)})
        elif fault.kind == "graphql_rate_limited":
            self._send(
                h,
                200,
                {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]},
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
            )
        elif fault.kind in ("500", "502", "503"):
            self._send(h, int(fault.kind), b"<html>Server Error</html>")
        elif fault.kind == "401":
            self._send(h, 401, {"message": "Bad credentials"})
        elif fault.kind == "deep_json":  # nested deeper than any parser reads: no answer GitHub gives
            self._send(h, 200, b"[" * 200_000 + b"]" * 200_000, {"Content-Type": "application/json"})
        elif fault.kind == "bad_json":
            self._send(h, 200, b'{"data": {"repository": ', {"Content-Type": "application/json"})
        elif fault.kind == "drop":
            with self.lock:
                self.log.append((h.command, h.path, 0))
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", "100000")
            h.end_headers()
            h.wfile.write(b'{"data": {"repository": {"object": {"history": {"nodes": [')
            h.wfile.flush()
            h.close_connection = True
            h.connection.close()
        else:
            return False
        return True

    def _rest(self, h: BaseHTTPRequestHandler) -> None:
        path, _, query = h.path.partition("?")
        params = {k: unquote(v) for k, v in (p.split("=", 1) for p in query.split("&") if "=" in p)}
        path = re.sub(r"^/api/v3", "", path)
        copilot = re.match(r"^/orgs/([^/]+)/copilot/metrics/reports/(organization|users)-(1-day|28-day/latest)$", path)
        if copilot:
            self._copilot(h, path, copilot.group(1), copilot.group(2), copilot.group(3), params)
            return
        actions = re.match(r"^/repos/([^/]+/[^/]+)/actions/workflows(?:/(\d+)/runs)?$", path)
        if actions and actions.group(1) in self.repos:
            self._actions(h, self.repos[actions.group(1)], actions.group(2), params)
            return
        issues = re.match(r"^/repos/([^/]+/[^/]+)/issues$", path)
        if issues and issues.group(1) in self.repos:
            self._issues(h, self.repos[issues.group(1)], params)
            return
        listing = re.match(r"^/repos/([^/]+/[^/]+)/(releases|deployments|pulls)$", path)
        if listing and listing.group(2) in self.refused:
            message = "Resource not accessible by personal access token"
            status = self.refused[listing.group(2)]
            self._send(h, status, {"message": message if status == 403 else "Not Found"})
            return
        if listing and listing.group(1) in self.repos:
            served = self.repos[listing.group(1)]
            items = {"releases": served.releases, "deployments": served.deployments, "pulls": served.pulls}[
                listing.group(2)
            ]
            if listing.group(2) == "pulls":  # REST's shape needs only what changes the listing
                items = [
                    {"number": p["number"], "updated_at": p["updatedAt"], "state": p["state"]}
                    for p in sorted(items, key=lambda p: p["updatedAt"], reverse=True)
                ]
            if listing.group(2) == "deployments" and "environment" in params:
                items = [d for d in items if d.get("environment") == params["environment"]]
            etag = '"' + str(abs(hash(json.dumps(items, sort_keys=True)))) + '"'
            if h.headers.get("If-None-Match") == etag:
                self._send(h, 304, None, {"ETag": etag})
            else:
                self._send(h, 200, items[: int(params.get("per_page", 30))], {"ETag": etag})
            return
        m = re.match(r"^/repos/([^/]+/[^/]+)(?:/commits/([^/]+))?$", path)
        if not m or m.group(1) not in self.repos:
            self._send(h, 404, {"message": "Not Found"})
            return
        repo = self.repos[m.group(1)]
        if m.group(2) is None:
            self._send(h, 200, {"full_name": m.group(1), "default_branch": repo.default_branch, "private": False})
            return
        ref = m.group(2)
        sha = subprocess.run(
            ["git", "-C", str(repo.path), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not sha:
            self._send(h, 422, {"message": f"No commit found for SHA: {ref}"})
            return
        if "vnd.github.sha" in h.headers.get("Accept", ""):
            etag = f'"{sha}"'
            if h.headers.get("If-None-Match") == etag:
                self._send(h, 304, None, {"ETag": etag})
            else:
                self._send(h, 200, sha.encode(), {"ETag": etag})
            return
        if "vnd.github.diff" in h.headers.get("Accept", ""):
            if self.diff_unavailable:
                self._send(h, 406, {"message": "Sorry, this diff is unavailable.", "status": "406"})
                return
            diff = subprocess.run(
                ["git", "-C", str(repo.path), "show", "--format=", "--patch", sha, "--"],
                capture_output=True,
                text=True,
            ).stdout
            self._send(h, 200, diff.encode(), {"Content-Type": "application/vnd.github.diff; charset=utf-8"})
            return
        if "per_page" in params and not 1 <= int(params["per_page"]) <= 100:
            self.violations.append(f"get-a-commit with per_page={params['per_page']}: documented up to 100")
        per_page = int(params.get("per_page", FILES_PAGE))
        self._send_commit(h, repo, sha, int(params.get("page", 1)), per_page)

    def _actions(
        self, h: BaseHTTPRequestHandler, repo: ServedRepo, workflow: str | None, params: dict[str, str]
    ) -> None:
        """List workflows, or a workflow's runs: filtered by branch, status and created as GitHub does, newest
        first, at most 1,000 results for a filtered listing; checked against the REST description."""
        template = "/repos/{owner}/{repo}/actions/workflows" + ("/{workflow_id}/runs" if workflow else "")
        self.violations += actions_problems(template, params)
        per_page, page = int(params.get("per_page", 30)), int(params.get("page", 1))
        if workflow is None:
            items, key = repo.workflows, "workflows"
            total = len(items)
        else:
            items = [r for r in repo.runs if str(r["workflow_id"]) == workflow]
            if "branch" in params:
                items = [r for r in items if r["head_branch"] == params["branch"]]
            if "status" in params:
                want = params["status"]
                items = [r for r in items if want in (r["status"], r["conclusion"])]
            if "created" in params:
                items = [r for r in items if created_matches(r["created_at"], params["created"])]
            items = sorted(items, key=lambda r: (r["created_at"], r["id"]), reverse=True)
            total, key = len(items), "workflow_runs"
            if params.keys() - {"per_page", "page"}:
                items = items[:1000]  # GitHub's cap on a filtered listing
        chunk = items[(page - 1) * per_page : page * per_page]
        body = {"total_count": total, key: chunk}
        etag = '"' + str(abs(hash(json.dumps(body, sort_keys=True)))) + '"'
        if h.headers.get("If-None-Match") == etag:
            self._send(h, 304, None, {"ETag": etag})
        else:
            self._send(h, 200, body, {"ETag": etag})

    def _issues(self, h: BaseHTTPRequestHandler, repo: ServedRepo, params: dict[str, str]) -> None:
        """Issues filtered as GitHub does: every label named (case-insensitive), state (default open), updated
        since; sorted (default created, descending); paged; checked against the REST description."""
        self.violations += actions_problems("/repos/{owner}/{repo}/issues", params)
        items = list(repo.issues)
        if params.get("labels"):
            wanted = {label.strip().lower() for label in params["labels"].split(",")}
            items = [i for i in items if wanted <= {str(label["name"]).lower() for label in i["labels"]}]
        state = params.get("state", "open")
        if state != "all":
            items = [i for i in items if i["state"] == state]
        if "since" in params:
            items = [i for i in items if i["updated_at"] >= params["since"]]
        key = {"created": "created_at", "updated": "updated_at"}.get(params.get("sort", "created"), "created_at")
        items.sort(key=lambda i: (i[key], i["number"]), reverse=params.get("direction", "desc") == "desc")
        per_page, page = int(params.get("per_page", 30)), int(params.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        etag = '"' + str(abs(hash(json.dumps(chunk, sort_keys=True)))) + '"'
        if h.headers.get("If-None-Match") == etag:
            self._send(h, 304, None, {"ETag": etag})
        else:
            self._send(h, 200, chunk, {"ETag": etag})

    def _send_commit(self, h: BaseHTTPRequestHandler, repo: ServedRepo, sha: str, page: int, per_page: int) -> None:
        show = self._shown.get(sha)
        if show is None:
            show = self._shown[sha] = subprocess.run(
                ["git", "-C", str(repo.path), "show", "--format=", "--patch", "--numstat", sha, "--"],
                capture_output=True,
                text=True,
            ).stdout
        numstat, _, patch_text = show.partition("\ndiff --git ")
        patches = {}
        for part in ("diff --git " + patch_text).split("\ndiff --git "):
            head = part.split("\n", 1)[0]
            name = head.rsplit(" b/", 1)[-1]
            body = part.split("\n@@", 1)
            patches[name] = ("@@" + body[1]) if len(body) == 2 else ""
        files = []
        for line in numstat.strip().splitlines():
            if "\t" not in line:
                continue
            a, d, name = line.split("\t", 2)
            adds, dels = (0 if a == "-" else int(a)), (0 if d == "-" else int(d))
            files.append(
                {
                    "filename": name,
                    "status": "modified",
                    "additions": adds,
                    "deletions": dels,
                    "changes": adds + dels,
                    "patch": patches.get(name, ""),
                }
            )
        node = repo.commits[sha]
        files = files[:FILES_LISTED]
        chunk = files[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(files):
            headers["Link"] = f'<{self.url}/repos/x/y/commits/{sha}?page={page + 1}>; rel="next"'
        self._send(
            h,
            200,
            {
                "sha": sha,
                "commit": {
                    "message": node["message"],
                    "author": {
                        "name": node["author"]["name"],
                        "email": node["author"]["email"],
                        "date": node["authoredDate"],
                    },
                },
                "parents": [{"sha": p["oid"]} for p in node["parents"]["nodes"]],
                "stats": {
                    "additions": node["additions"],
                    "deletions": node["deletions"],
                    "total": node["additions"] + node["deletions"],
                },
                "files": chunk,
            },
            headers,
        )

    def _node(self, node: dict[str, Any]) -> dict[str, Any]:
        login = self.logins.get(node["author"]["email"].lower())
        out = dict(node)
        out["author"] = dict(node["author"], user={"login": login} if login else None)
        return out

    def _graphql(self, h: BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
        query, variables = payload.get("query", ""), payload.get("variables") or {}
        found_problems = graphql_problems(query, variables)
        if found_problems:
            with self.lock:
                self.violations += [f"GraphQL: {p}" for p in found_problems]
            self._send(h, 200, {"errors": [{"message": p} for p in found_problems]})
            return
        if "pullRequests(" in query or "pullRequest(" in query:
            self._pulls(h, query, variables)
            return
        if "repositoryOwner(" in query:
            self._owner(h, str(variables.get("login")), variables.get("cursor"))
            return
        name = f"{variables.get('owner')}/{variables.get('name')}"
        if name not in self.repos:
            self._send(
                h,
                200,
                {
                    "data": {"repository": None},
                    "errors": [
                        {
                            "type": "NOT_FOUND",
                            "message": f"Could not resolve to a Repository with the name '{name}'.",
                        }
                    ],
                },
            )
            return
        repo = self.repos[name]
        rate = {"remaining": self.remaining, "resetAt": "2030-01-01T00:00:00Z", "cost": 1}
        if "history(" in query:
            oid = variables["oid"]
            if oid not in repo.commits:
                self._send(h, 200, {"data": {"repository": {"object": None}, "rateLimit": rate}})
                return
            args = ["git", "-C", str(repo.path), "rev-list", oid]
            if variables.get("since"):
                args.append(f"--since={variables['since']}")
            if variables.get("until"):
                args.append(f"--until={variables['until']}")
            key = tuple(args)
            order = self._orders.get(key)
            if order is None:
                order = self._orders[key] = subprocess.run(
                    args, capture_output=True, text=True, check=True
                ).stdout.split()
            cursor = variables.get("cursor")
            start = int(cursor.split()[1]) + 1 if cursor else 0
            page = order[start : start + 100]
            end = start + len(page) - 1
            self._send(
                h,
                200,
                {
                    "data": {
                        "repository": {
                            "object": {
                                "history": {
                                    "pageInfo": {
                                        "hasNextPage": start + 100 < len(order),
                                        "endCursor": f"{oid} {end}" if page else None,
                                    },
                                    "nodes": [self._node(repo.commits[c]) for c in page],
                                }
                            }
                        },
                        "rateLimit": rate,
                    }
                },
            )
            return
        if "releases(" in query or "deployments(" in query:
            out: dict[str, Any] = {}
            for kind, items in (("releases", repo.releases), ("deployments", repo.deployments)):
                if not variables.get("withReleases" if kind == "releases" else "withDeployments"):
                    continue
                if kind == "deployments":
                    items = [d for d in items if d.get("environment") in (variables.get("env") or [])]
                start = int(variables.get(kind) or 0)
                nodes = items[start : start + 100]
                out[kind] = {
                    "pageInfo": {"hasNextPage": start + 100 < len(items), "endCursor": str(start + len(nodes))},
                    "nodes": nodes,
                }
            self._send(h, 200, {"data": {"repository": out}})
            return
        found = {}
        for alias, oid in re.findall(r'(c\d+): object\(oid: "([0-9a-f]+)"\)', query):
            found[alias] = self._node(repo.commits[oid]) if oid in repo.commits else None
        self._send(h, 200, {"data": {"repository": found}})

    def _owner(self, h: BaseHTTPRequestHandler, login: str, cursor: str | None) -> None:
        """An owner's repositories by name, 100 a page, with their default branch's commit count."""
        mine = sorted((n for n in self.repos if n.split("/")[0].lower() == login.lower()), key=str.lower)
        if not mine and login not in self.owners:
            self._send(
                h,
                200,
                {
                    "data": {"repositoryOwner": None},
                    "errors": [{"type": "NOT_FOUND", "message": f"Could not resolve to a RepositoryOwner '{login}'."}],
                },
            )
            return
        start = int(cursor or 0)
        page = mine[start : start + 100]
        nodes = []
        for name in page:
            served = self.repos[name]
            key = f"{served.path}:{served.default_branch}"
            head = self._counts.get(key)
            if head is None:
                head = self._counts[key] = subprocess.run(
                    ["git", "-C", str(served.path), "rev-list", "--count", served.default_branch],
                    capture_output=True,
                    text=True,
                ).stdout.strip()
            branch = {"name": served.default_branch, "target": {"history": {"totalCount": int(head)}}} if head else None
            nodes.append(
                {
                    "nameWithOwner": name,
                    "isArchived": served.archived,
                    "isFork": served.fork,
                    "defaultBranchRef": branch,
                }
            )
        typename = self.owners.get(login, "User")
        info = {"hasNextPage": start + 100 < len(mine), "endCursor": str(start + len(page))}
        self._send(
            h,
            200,
            {"data": {"repositoryOwner": {"__typename": typename, "repositories": {"pageInfo": info, "nodes": nodes}}}},
        )

    def _pulls(self, h: BaseHTTPRequestHandler, query: str, variables: dict[str, Any]) -> None:
        """Pull requests by most recent update, 50 a page, their connections 100 at a time; or one by number."""
        name = f"{variables.get('owner')}/{variables.get('name')}"
        served = self.repos.get(name)
        if served is None:
            self._send(h, 200, {"data": {"repository": None}, "errors": [{"type": "NOT_FOUND", "message": name}]})
            return
        rate = {"remaining": self.remaining, "cost": 1}
        if "pullRequests(" in query:
            ordered = sorted(served.pulls, key=lambda p: p["updatedAt"], reverse=True)
            start = int(variables.get("cursor") or 0)
            page = ordered[start : start + 50]
            conn = {
                "pageInfo": {"hasNextPage": start + 50 < len(ordered), "endCursor": str(start + len(page))},
                "nodes": [self._pull_page(p, None, None) for p in page],
            }
            self._send(h, 200, {"data": {"repository": {"pullRequests": conn}, "rateLimit": rate}})
            return
        node = next((p for p in served.pulls if p["number"] == variables.get("number")), None)
        more = self._pull_page(node, variables.get("reviews"), variables.get("timeline")) if node else None
        self._send(h, 200, {"data": {"repository": {"pullRequest": more}}})

    @staticmethod
    def _pull_page(node: dict[str, Any], reviews: str | None, timeline: str | None) -> dict[str, Any]:
        out = dict(node)
        for part, cursor in (("reviews", reviews), ("timelineItems", timeline)):
            items = node.get(part, [])
            start = int(cursor or 0)
            out[part] = {
                "pageInfo": {"hasNextPage": start + 100 < len(items), "endCursor": str(start + 100)},
                "nodes": items[start : start + 100],
            }
        commits = node.get("commits", [])
        out["commits"] = {"totalCount": len(commits), "nodes": [{"commit": c} for c in commits[:100]]}
        out["reviewRequests"] = {"nodes": [{"requestedReviewer": r} for r in node.get("reviewRequests", [])]}
        out["labels"] = {"nodes": [{"name": n} for n in node.get("labels", [])]}
        return out


def pull_node(
    number: int,
    *,
    title: str = "",
    author: str | None = "alice",
    created: str,
    updated: str | None = None,
    state: str = "OPEN",
    draft: bool = False,
    merged: str | None = None,
    merge_commit: str | None = None,
    commits: Sequence[tuple[str, str]] = (),
    reviews: Sequence[tuple[str | None, str, str]] = (),  # (login, state, at)
    requested: Sequence[str] = (),  # logins (or "team:slug") still waited for
    events: Sequence[tuple[str, str, str | None]] = (),  # (type, at, reviewer)
    head_repo: str | None = None,
    additions: int = 10,
    deletions: int = 2,
    files: int = 1,
    body: str = "",
) -> dict[str, Any]:
    """A PullRequest node as GitHub's GraphQL gives it, lists whole (the fake pages them)."""

    def reviewer(login: str) -> dict[str, Any]:
        if login.startswith("team:"):
            return {"__typename": "Team", "slug": login[5:]}
        return {"__typename": "Bot" if login.endswith("[bot]") else "User", "login": login}

    timeline = []
    for kind, at, who in events:
        item: dict[str, Any] = {"__typename": kind, "createdAt": at}
        if kind == "ReviewRequestedEvent":
            item["requestedReviewer"] = reviewer(who or "")
        timeline.append(item)
    return {
        "number": number,
        "title": title or f"Change {number}",
        "body": body,
        "state": state,
        "isDraft": draft,
        "createdAt": created,
        "updatedAt": updated or merged or created,
        "mergedAt": merged,
        "closedAt": merged,
        "additions": additions,
        "deletions": deletions,
        "changedFiles": files,
        "baseRefName": "main",
        "headRefName": f"topic-{number}",
        "headRepository": {"nameWithOwner": head_repo} if head_repo else None,
        "author": {"__typename": "User", "login": author} if author else None,
        "mergeCommit": {"oid": merge_commit} if merge_commit else None,
        "labels": [],
        "commits": [{"oid": sha, "authoredDate": at} for sha, at in commits],
        "reviews": [
            {
                "id": f"PRR_{number}_{i}",
                "state": st,
                "submittedAt": at,
                "author": {"__typename": "User", "login": who} if who else None,
            }
            for i, (who, st, at) in enumerate(reviews)
        ],
        "reviewRequests": [reviewer(r) for r in requested],
        "timelineItems": timeline,
    }


REST_SPEC = Path(__file__).resolve().parent.parent / "specs" / "github-rest" / "listings.json"


def actions_problems(template: str, params: dict[str, str]) -> list[str]:
    """What GitHub's REST description does not allow in a query of the Actions listings teamops reads."""
    spec = json.loads(REST_SPEC.read_text(encoding="utf-8"))
    shared = spec["components"]["parameters"]
    declared = [
        shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for p in spec["paths"][template]["get"]["parameters"]
    ]
    allowed = {p["name"]: p for p in declared if p["in"] == "query"}
    problems = []
    for name, value in params.items():
        if name not in allowed:
            problems.append(f"{template}: {name} is not a parameter")
            continue
        schema = allowed[name].get("schema", {})
        if "enum" in schema and value not in schema["enum"]:
            problems.append(f"{template}: {name}={value} is not one of its values")
        if schema.get("type") == "integer" and not value.isdigit():
            problems.append(f"{template}: {name}={value} is not an integer")
    if int(params.get("per_page", "30")) > 100:
        problems.append(f"{template}: per_page over 100")
    return problems


def created_matches(created: str, query: str) -> bool:
    """GitHub's date syntax for `created`: `A..B`, `>=A`, `>A`, `<=B`, `<B`, or one day."""
    if ".." in query:
        lo, hi = query.split("..", 1)
        return (lo == "*" or created >= lo) and (hi == "*" or created <= hi)
    for op in (">=", "<=", ">", "<"):
        if query.startswith(op):
            bound = query[len(op) :]
            return {">=": created >= bound, "<=": created <= bound, ">": created > bound, "<": created < bound}[op]
    return created.startswith(query)


def workflow_run(
    rid: int,
    workflow_id: int,
    sha: str,
    created: str,
    *,
    conclusion: str = "success",
    status: str = "completed",
    branch: str = "main",
    attempt: int = 1,
    updated: str | None = None,
    event: str = "push",
) -> dict[str, Any]:
    """A workflow run as REST lists it (fields of GitHub's workflow-run object that teamops reads, and more)."""
    return {
        "id": rid,
        "name": "Deploy",
        "node_id": f"WFR_{rid}",
        "head_branch": branch,
        "head_sha": sha,
        "path": ".github/workflows/deploy.yml",
        "run_number": rid % 10_000,
        "run_attempt": attempt,
        "event": event,
        "status": status,
        "conclusion": conclusion if status == "completed" else None,
        "workflow_id": workflow_id,
        "created_at": created,
        "updated_at": updated or created,
        "run_started_at": created,
        "html_url": f"https://github.com/acme/api/actions/runs/{rid}",
    }


def issue(
    number: int,
    title: str,
    created: str,
    *,
    labels: tuple[str, ...] = ("incident",),
    closed: str | None = None,
    reason: str | None = None,
    body: str = "",
    updated: str | None = None,
    pull: bool = False,
) -> dict[str, Any]:
    """An issue as REST lists it (the fields teamops reads, and more)."""
    found: dict[str, Any] = {
        "id": 5_000_000 + number,
        "number": number,
        "title": title,
        "body": body,
        "state": "closed" if closed else "open",
        "state_reason": reason if closed else None,
        "labels": [{"id": i, "name": name, "color": "d73a4a"} for i, name in enumerate(labels)],
        "created_at": created,
        "updated_at": updated or closed or created,
        "closed_at": closed,
        "user": {"login": "ann", "type": "User"},
        "html_url": f"https://github.com/acme/api/issues/{number}",
    }
    if pull:
        found["pull_request"] = {"url": f"https://api.github.com/repos/acme/api/pulls/{number}"}
    return found


COPILOT_SPEC = Path(__file__).resolve().parent.parent / "specs" / "github-rest" / "copilot-reports.json"


def copilot_problems(template: str, params: dict[str, str]) -> list[str]:
    """What GitHub's reference does not allow in a request for a Copilot usage report."""
    spec = json.loads(COPILOT_SPEC.read_text(encoding="utf-8"))
    operation = spec["paths"].get(template, {}).get("get")
    if operation is None:
        return [f"{template} is not a documented Copilot report"]
    query = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    problems = [f"{template}: {name} is not a parameter" for name in params if name not in query]
    for name, p in query.items():
        if p.get("required") and name not in params:
            problems.append(f"{template}: {name} is required")
        elif (
            name in params
            and p["schema"].get("format") == "date"
            and not re.match(r"^\d{4}-\d{2}-\d{2}$", params[name])
        ):
            problems.append(f"{template}: {name}={params[name]} is not YYYY-MM-DD")
    return problems


def copilot_user(
    day: str,
    login: str,
    *,
    prompts: int,
    generations: int,
    acceptances: int,
    suggested: int,
    added: int,
    deleted: int = 0,
    agent: int = 0,
    chat: bool = False,
) -> dict[str, Any]:
    """One account's day as the users report holds it (the fields of GitHub's user-level example schema)."""
    features = [
        {
            "feature": "code_completion",
            "code_generation_activity_count": generations,
            "code_acceptance_activity_count": acceptances,
            "loc_suggested_to_add_sum": suggested,
            "loc_suggested_to_delete_sum": 0,
            "loc_added_sum": added - agent,
            "loc_deleted_sum": 0,
            "user_initiated_interaction_count": 0,
        }
    ]
    if agent:
        features.append(
            {
                "feature": "agent_edit",
                "code_generation_activity_count": 0,
                "code_acceptance_activity_count": 0,
                "loc_suggested_to_add_sum": 0,
                "loc_suggested_to_delete_sum": 0,
                "loc_added_sum": agent,
                "loc_deleted_sum": deleted,
                "user_initiated_interaction_count": 0,
            }
        )
    return {
        "code_acceptance_activity_count": acceptances,
        "code_generation_activity_count": generations,
        "day": day,
        "organization_id": "4242",
        "loc_added_sum": added,
        "loc_deleted_sum": deleted,
        "loc_suggested_to_add_sum": suggested,
        "loc_suggested_to_delete_sum": 0,
        "totals_by_feature": features,
        "totals_by_ide": [
            {
                "ide": "vscode",
                "loc_added_sum": added,
                "code_generation_activity_count": generations,
                "last_known_ide_version": {"ide_version": "1.106.0", "sampled_at": f"{day}T09:00:00.000Z"},
            }
        ],
        "totals_by_language_feature": [],
        "totals_by_language_model": [],
        "totals_by_model_feature": [],
        "used_agent": bool(agent),
        "used_chat": chat,
        "used_cli": False,
        "user_id": abs(hash(login)) % 10_000_000,
        "user_login": login,
        "user_initiated_interaction_count": prompts,
        "etl_id": "green",
        "day_partition": day,
        "entity_id_partition": 4242,
    }


@dataclass
class CopilotReports:
    """An organisation's Copilot usage: each day's account records and pull-request counts; `latest` is the
    last day GitHub has processed (None: no report at all). Reports come in `files` files each."""

    users: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pulls: dict[str, dict[str, int]] = field(default_factory=dict)
    latest: str | None = None
    files: int = 1
    signature: str = "sv=2025-01-05&sr=b&sig=c2lnbmVk"
    served: dict[str, bytes] = field(default_factory=dict)
    pretty: bool = False  # one JSON array (as the docs' examples print it) instead of JSON lines

    def known(self) -> list[str]:
        return sorted(set(self.users) | set(self.pulls))

    def day_total(self, day: str) -> dict[str, Any]:
        """A day's organisation totals, summed from its accounts like GitHub's organisation report."""
        keys = (
            "code_acceptance_activity_count",
            "code_generation_activity_count",
            "loc_added_sum",
            "loc_deleted_sum",
            "loc_suggested_to_add_sum",
            "loc_suggested_to_delete_sum",
            "user_initiated_interaction_count",
        )
        rows = self.users.get(day, [])
        agent = sum(
            f["loc_added_sum"] + f["loc_deleted_sum"]
            for r in rows
            for f in r["totals_by_feature"]
            if f["feature"] == "agent_edit"
        )
        return {
            "day": day,
            "organization_id": "4242",
            "daily_active_users": len(rows),
            "weekly_active_users": len(rows),
            "monthly_active_users": len(rows),
            **{k: sum(r[k] for r in rows) for k in keys},
            "totals_by_feature": [{"feature": "agent_edit", "loc_added_sum": agent, "loc_deleted_sum": 0}],
            "pull_requests": {
                "total_created": 0,
                "total_merged": 0,
                "total_created_by_copilot": 0,
                "total_merged_created_by_copilot": 0,
                "total_reviewed_by_copilot": 0,
                **self.pulls.get(day, {}),
            },
        }

    def totals(self, days: list[str]) -> dict[str, Any]:
        return {
            "day_totals": [self.day_total(d) for d in days],
            "organization_id": "4242",
            "report_start_day": days[0],
            "report_end_day": days[-1],
            "etl_id": "green",
            "day_partition": days[-1],
            "entity_id_partition": 4242,
        }

    def body(self, records: list[dict[str, Any]]) -> bytes:
        if self.pretty:
            return json.dumps(records, indent=2).encode()
        return "".join(json.dumps(r) + "\n" for r in records).encode()
