"""Talk to GitHub (and GitHub Enterprise) through PyGithub's requester: GraphQL history, REST diffs.

Imported only by the commands that reach GitHub: PyGithub costs ~0.2 s to import.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from teamops.assists.detect import body_marks
from teamops.clients import secret
from teamops.clock import iso_with_offset
from teamops.errors import ConfigError, Refused, ServiceError
from teamops.integrations.http import RateBudget, RetryPolicy, Verdict, retry_after
from teamops.records import CommitRecord, DeliveryRecord, PullRecord, RequestRecord, ReviewRecord

if TYPE_CHECKING:
    from teamops.config import Config

COMMIT_FIELDS = """
            oid
            message
            committedDate
            authoredDate
            additions
            deletions
            changedFilesIfAvailable
            parents(first: 10) { totalCount nodes { oid } }
            author { name email user { login } }
"""
HISTORY_QUERY = (
    """
query($owner: String!, $name: String!, $oid: GitObjectID!, $cursor: String,
      $since: GitTimestamp, $until: GitTimestamp) {
  repository(owner: $owner, name: $name) {
    object(oid: $oid) {
      ... on Commit {
        history(first: 100, after: $cursor, since: $since, until: $until) {
          pageInfo { hasNextPage endCursor }
          nodes {"""
    + COMMIT_FIELDS
    + """}
        }
      }
    }
  }
  rateLimit { remaining resetAt cost }
}
"""
)
# Releases and deployments, newest first, for the delivery metrics (fields GitHub has had for years).
DELIVERY_QUERY = """
query($owner: String!, $name: String!, $env: [String!], $releases: String, $deployments: String,
      $withReleases: Boolean!, $withDeployments: Boolean!) {
  repository(owner: $owner, name: $name) {
    releases(first: 100, after: $releases, orderBy: {field: CREATED_AT, direction: DESC}) @include(if: $withReleases) {
      pageInfo { hasNextPage endCursor }
      nodes { tagName publishedAt createdAt isDraft isPrerelease tagCommit { oid } }
    }
    deployments(first: 100, after: $deployments, environments: $env, orderBy: {field: CREATED_AT, direction: DESC})
      @include(if: $withDeployments) {
      pageInfo { hasNextPage endCursor }
      nodes { databaseId createdAt environment commitOid latestStatus { state createdAt } }
    }
  }
}
"""
# An organisation's or user's own repositories, 100 a page, with what discovery filters on and the
# size of each default branch (to balance shards).
OWNER_QUERY = """
query($login: String!, $cursor: String) {
  repositoryOwner(login: $login) {
    __typename
    repositories(first: 100, after: $cursor, ownerAffiliations: [OWNER], orderBy: {field: NAME, direction: ASC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        nameWithOwner
        isArchived
        isFork
        defaultBranchRef { name target { ... on Commit { history { totalCount } } } }
      }
    }
  }
}
"""
# Pull requests, most recently updated first, 50 a page, with their reviews, current review requests,
# head commits and the timeline events that time them; a pull request with more reviews or events
# than one page holds is read on (PULL_MORE_QUERY).
PULL_PARTS = """
        reviews(first: 100, after: $reviews) {
          pageInfo { hasNextPage endCursor }
          nodes { id state submittedAt author { __typename login } }
        }
        timelineItems(first: 100, after: $timeline,
                      itemTypes: [READY_FOR_REVIEW_EVENT, CONVERT_TO_DRAFT_EVENT, REVIEW_REQUESTED_EVENT]) {
          pageInfo { hasNextPage endCursor }
          nodes {
            __typename
            ... on ReadyForReviewEvent { createdAt }
            ... on ConvertToDraftEvent { createdAt }
            ... on ReviewRequestedEvent {
              createdAt
              requestedReviewer { __typename ... on User { login } ... on Bot { login } ... on Team { slug } }
            }
          }
        }
"""
PULL_FIELDS = (
    """
        number title body state isDraft createdAt updatedAt mergedAt closedAt
        additions deletions changedFiles baseRefName headRefName
        headRepository { nameWithOwner }
        author { __typename login }
        mergeCommit { oid }
        labels(first: 20) { nodes { name } }
        commits(first: 100) { totalCount nodes { commit { oid authoredDate } } }
        reviewRequests(first: 20) {
          nodes { requestedReviewer { __typename ... on User { login } ... on Bot { login } ... on Team { slug } } }
        }
"""
    + PULL_PARTS
)
PULLS_QUERY = (
    """
query($owner: String!, $name: String!, $cursor: String, $reviews: String, $timeline: String) {
  repository(owner: $owner, name: $name) {
    pullRequests(first: 50, after: $cursor, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {"""
    + PULL_FIELDS
    + """      }
    }
  }
  rateLimit { remaining cost }
}
"""
)
PULL_MORE_QUERY = (
    """
query($owner: String!, $name: String!, $number: Int!, $reviews: String, $timeline: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {"""
    + PULL_PARTS
    + """    }
  }
}
"""
)
SERVER_ERRORS = (500, 502, 503, 504)
LISTED_PAGES = 10  # get-a-commit pages its files 300 at a time, up to 3,000
LISTED_FILES = 3000


def node_to_record(node: dict[str, Any]) -> CommitRecord:
    """A GraphQL Commit node as a CommitRecord; merges keep no line counts, like git's."""
    author = node.get("author") or {}
    user = author.get("user") or {}
    parents_obj = node.get("parents") or {}
    parents = [p["oid"] for p in parents_obj.get("nodes") or []]
    authored_at, offset = iso_with_offset(node.get("authoredDate") or node["committedDate"])
    committed_at, _ = iso_with_offset(node["committedDate"])
    return CommitRecord(
        sha=node["oid"],
        parents=parents,
        author_name=author.get("name") or "",
        author_email=(author.get("email") or "").lower(),
        authored_at=authored_at,
        author_tz_offset=offset,
        committed_at=committed_at,
        message=(node.get("message") or "").rstrip("\n"),
        author_login=user.get("login"),
        additions_total=node.get("additions"),
        deletions_total=node.get("deletions"),
        files_total=node.get("changedFilesIfAvailable"),
        files_known=False,
    )


def delivery_record(kind: str, node: dict[str, Any]) -> DeliveryRecord:
    """A GraphQL Release or Deployment node as a DeliveryRecord."""
    if kind == "releases":
        return DeliveryRecord(
            "release",
            str(node.get("tagName") or ""),
            (node.get("tagCommit") or {}).get("oid"),
            str(node.get("publishedAt") or node.get("createdAt") or ""),
            draft=bool(node.get("isDraft")),
            prerelease=bool(node.get("isPrerelease")),
        )
    latest = node.get("latestStatus") or {}
    return DeliveryRecord(
        "deployment",
        f"deployment {node.get('databaseId')}",
        node.get("commitOid"),
        str(latest.get("createdAt") or node.get("createdAt") or ""),
        state=str(latest.get("state") or "") or None,
    )


@dataclass
class PullPage:
    """One page of pull requests and the cursor that continues it."""

    pulls: list[PullRecord]
    end_cursor: str | None
    has_next: bool


def _actor(actor: dict[str, Any] | None) -> tuple[str | None, str]:
    """(login, kind) of a GraphQL author (None: a deleted account)."""
    actor = actor or {}
    return account(actor.get("login"), actor.get("__typename") == "Bot")


def _reviewer(node: dict[str, Any] | None) -> str | None:
    if not node:
        return None
    if node.get("slug"):
        return f"team:{node['slug']}"
    return str(node["login"]) if node.get("login") else None


def pull_record(node: dict[str, Any]) -> PullRecord:
    """A GraphQL PullRequest node (with its reviews, requests, commits and timeline) as a PullRecord."""
    author, kind = _actor(node.get("author"))
    events = (node.get("timelineItems") or {}).get("nodes") or []
    ready = [e["createdAt"] for e in events if e.get("__typename") == "ReadyForReviewEvent" and e.get("createdAt")]
    asked: dict[str, str] = {}
    for e in events:
        who = _reviewer(e.get("requestedReviewer")) if e.get("__typename") == "ReviewRequestedEvent" else None
        if who and e.get("createdAt"):
            asked[who] = max(asked.get(who, ""), str(e["createdAt"]))  # the latest request of each reviewer
    pending = (node.get("reviewRequests") or {}).get("nodes") or []
    current = [who for who in (_reviewer(r.get("requestedReviewer")) for r in pending) if who]
    requests = [RequestRecord(who, asked.get(who), who in current) for who in sorted(set(asked) | set(current))]
    reviews = []
    for r in (node.get("reviews") or {}).get("nodes") or []:
        login, rkind = _actor(r.get("author"))
        reviews.append(ReviewRecord(str(r.get("id")), login, rkind, str(r.get("state") or ""), r.get("submittedAt")))
    commit_nodes = [c.get("commit") or {} for c in (node.get("commits") or {}).get("nodes") or []]
    authored = [c["authoredDate"] for c in commit_nodes if c.get("authoredDate")]
    head = (node.get("headRepository") or {}).get("nameWithOwner")
    created = node.get("createdAt")
    return PullRecord(
        source="github",
        number=int(node["number"]),
        title=str(node.get("title") or ""),
        author=author,
        author_kind=kind,
        state=str(node.get("state") or "OPEN").lower(),
        draft=bool(node.get("isDraft")),
        created_at=created,
        updated_at=node.get("updatedAt"),
        ready_at=max(ready) if ready else created,
        merged_at=node.get("mergedAt"),
        closed_at=node.get("closedAt"),
        base_branch=node.get("baseRefName"),
        head_branch=node.get("headRefName"),
        head_repo=head,
        additions=node.get("additions"),
        deletions=node.get("deletions"),
        changed_files=node.get("changedFiles"),
        commit_count=(node.get("commits") or {}).get("totalCount"),
        merge_commit_sha=(node.get("mergeCommit") or {}).get("oid"),
        labels=[str(n.get("name")) for n in (node.get("labels") or {}).get("nodes") or [] if n.get("name")],
        first_commit_at=min(authored) if authored else None,
        commits=[str(c["oid"]) for c in commit_nodes if c.get("oid")],
        reviews=reviews,
        requests=requests,
        body_marks=body_marks(node.get("body")),
    )


class CommitFiles(list[tuple[str, str]]):
    """A commit's (path, patch) pairs, with what was left out when GitHub could not give them all."""

    def __init__(self, pairs: list[tuple[str, str]], cut: str = "") -> None:
        super().__init__(pairs)
        self.cut = cut


def split_diff(text: str) -> list[tuple[str, str]]:
    """(path, patch) pairs from a unified diff (git's format, as the diff media type returns it)."""
    pairs: list[tuple[str, str]] = []
    for part in ("\n" + text).split("\ndiff --git ")[1:]:
        head, _, rest = part.partition("\n")
        path = head.rsplit(" b/", 1)[-1]
        hunks = rest.split("\n@@", 1)
        pairs.append((path, "@@" + hunks[1] if len(hunks) == 2 else ""))
    return pairs


@dataclass
class HistoryPage:
    """One page of a commit history walk: the nodes and the cursor that continues it."""

    nodes: list[dict[str, Any]]
    end_cursor: str | None
    has_next: bool


@dataclass
class OwnedRepo:
    """One repository in an owner's listing."""

    name: str  # owner/name
    archived: bool
    fork: bool
    default_branch: str | None  # None: an empty repository
    commits: int | None


class GitHubClient:
    """Requests with GitHub's rate-limit rules applied: wait, back off, or stop with exit 4."""

    def __init__(
        self,
        api_url: str,
        token: str | None,
        *,
        token_env: str = "GITHUB_TOKEN",
        timeout_s: int = 30,
        max_wait_s: int = 900,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        budget: RateBudget | None = None,
    ) -> None:
        from github import Auth, Github

        self.api_url = api_url.rstrip("/")
        self.token_env = token_env
        self._gh = Github(
            auth=Auth.Token(token) if token else None,
            base_url=self.api_url,
            timeout=timeout_s,
            retry=None,  # our own policy below: caps, Retry-After, GraphQL RATE_LIMITED
            per_page=100,
            user_agent="teamops",
            # PyGithub spaces POSTs a second apart as if they were writes; GraphQL queries are reads,
            # made one at a time, and secondary limits are handled below.
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        self._req = self._gh.requester
        self.policy = RetryPolicy(
            "GitHub", attempts=max_retries, max_wait_s=max_wait_s, sleep=sleep, now=now, jitter=jitter
        )
        self.requests = 0
        self.downloads = 0  # report files fetched from signed links (not API requests)
        self._storage: Any = None  # the httpx client for those files, made on first use
        self.timeout_s = timeout_s
        self.rate_remaining: int | None = None
        self.budget = budget or RateBudget(now=now)

    @property
    def waited_s(self) -> float:
        return self.policy.waited_s

    def __repr__(self) -> str:  # never show the token
        return f"GitHubClient({self.api_url!r})"

    @property
    def graphql_url(self) -> str:
        return str(self._req.graphql_url)

    # -- transport -------------------------------------------------------------------------------

    def request(
        self,
        verb: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        what: str = "a request",
        ok: tuple[int, ...] = (200,),
    ) -> tuple[int, dict[str, str], Any]:
        """One API call with retries; returns status, lower-cased headers and parsed JSON (or text)."""

        def attempt(n: int) -> Verdict[tuple[int, dict[str, str], Any]]:
            self.budget.wait_turn(self, self.policy, what)
            return self._attempt(verb, url, params, headers, body, what, ok, n)

        return self.policy.run(attempt, what)

    def _attempt(
        self,
        verb: str,
        url: str,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        body: Any,
        what: str,
        ok: tuple[int, ...],
        attempt: int,
    ) -> Verdict[tuple[int, dict[str, str], Any]]:
        """One try, classified: done, wait for a rate limit, back off, or fail (raised)."""
        import requests

        self.requests += 1
        try:
            status, raw_headers, output = self._req.requestJson(verb, url, params, headers, body)
        except (requests.RequestException, ConnectionError, TimeoutError) as exc:
            return Verdict.again(f"network error ({type(exc).__name__})")
        except ValueError:  # PyGithub could not read the answer's headers
            return Verdict.again("a malformed answer")
        hdrs = {k.lower(): v for k, v in (raw_headers or {}).items()}
        self._note_rate(hdrs)
        data, parsed = _parse(output)
        if status in ok or status == 304:
            if not parsed and status != 304 and not _is_text(hdrs):
                return Verdict.again("an answer that is not valid JSON")
            if isinstance(data, dict) and data.get("errors") and "graphql" in url:
                if any(e.get("type") == "RATE_LIMITED" for e in data.get("errors", [])):
                    wait = self._reset_wait(hdrs)
                    self.budget.pause(wait, self)
                    return Verdict.again("GraphQL rate limit", wait)
                raise ServiceError(f"GitHub refused {what}: {_graphql_message(data)}")
            return Verdict.done((status, hdrs, data))
        return self._classify_error(status, hdrs, data, what, attempt)

    def _reset_wait(self, hdrs: dict[str, str]) -> float:
        reset = _int(hdrs.get("x-ratelimit-reset"))
        return self.policy.until(reset) if reset else 60.0

    def _classify_error(
        self, status: int, hdrs: dict[str, str], data: Any, what: str, attempt: int
    ) -> Verdict[tuple[int, dict[str, str], Any]]:
        message = data.get("message", "") if isinstance(data, dict) else ""
        if status == 401:
            raise ServiceError(
                f"GitHub rejected the token for {what} (401 {message or 'Unauthorized'})",
                f"check the token in ${self.token_env}: it may be expired or revoked",
            )
        if status in (403, 429):
            if hdrs.get("x-ratelimit-remaining") == "0":
                reset = self._reset_wait(hdrs)
                self.budget.pause(reset, self)
                return Verdict.again("primary rate limit", reset)
            after = retry_after(hdrs)
            if after is None and (status == 429 or "secondary rate limit" in message.lower()):
                after = 60.0 * 2 ** min(attempt - 1, 4)  # GitHub's advice without Retry-After: a minute, then longer
            if after is not None:
                self.budget.pause(after, self)  # every worker on this token holds, not only this one
                return Verdict.again("secondary rate limit", after)
            raise Refused(
                f"GitHub refused {what} (403 {message or 'Forbidden'})",
                f"the token in ${self.token_env} needs read access to Contents and Metadata",
            )
        if status == 404:
            raise Refused(
                f"GitHub found nothing for {what} (404)",
                f"check the name, and that the token in ${self.token_env} can see the repository",
            )
        if status in SERVER_ERRORS:
            return Verdict.again(f"HTTP {status}")
        raise ServiceError(f"GitHub answered {what} with HTTP {status}: {message or 'no message'}")

    def _note_rate(self, hdrs: dict[str, str]) -> None:
        remaining = _int(hdrs.get("x-ratelimit-remaining"))
        if remaining is not None:
            self.rate_remaining = remaining
            reset = _int(hdrs.get("x-ratelimit-reset"))
            self.budget.note(remaining, float(reset) if reset is not None else None)

    # -- API -------------------------------------------------------------------------------------

    def default_branch(self, repo: str) -> str:
        _, _, data = self.request("GET", f"/repos/{repo}", what=f"repository {repo}")
        branch = data.get("default_branch") if isinstance(data, dict) else None
        if not branch:
            raise ServiceError(f"GitHub did not name a default branch for {repo}")
        return str(branch)

    def branch_head(self, repo: str, branch: str, etag: str | None) -> tuple[str | None, str | None]:
        """(head sha, etag), or (None, etag) when unchanged: a 304 costs no rate limit."""
        headers = {"Accept": "application/vnd.github.sha"}
        if etag:
            headers["If-None-Match"] = etag
        status, hdrs, data = self.request(
            "GET", f"/repos/{repo}/commits/{branch}", headers=headers, what=f"the head of {repo}@{branch}"
        )
        if status == 304:  # free: conditional hits do not count against the rate limit
            return None, etag
        sha = data.get("data") if isinstance(data, dict) else data
        sha = str(sha or "").strip()
        if len(sha) != 40:
            raise ServiceError(f"GitHub answered the head of {repo}@{branch} with {sha[:60]!r}")
        return sha, hdrs.get("etag")

    def history(
        self,
        repo: str,
        oid: str,
        cursor: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Iterator[HistoryPage]:
        """Pages of 100 commits with line counts, newest first, from `oid` (continuing at `cursor`)."""
        owner, name = repo.split("/", 1)
        while True:
            variables = {
                "owner": owner,
                "name": name,
                "oid": oid,
                "cursor": cursor,
                "since": since,
                "until": until,
            }
            _, _, data = self.request(
                "POST",
                self.graphql_url,
                body={"query": HISTORY_QUERY, "variables": variables},
                what=f"the history of {repo}",
            )
            try:
                repo_data = data["data"]["repository"]
                if repo_data is None or repo_data.get("object") is None:
                    raise ServiceError(
                        f"GitHub has no commit {oid[:10]} in {repo}",
                        f"check the name, and that the token in ${self.token_env} can see it",
                    )
                hist = repo_data["object"]["history"]
                page = HistoryPage(
                    list(hist["nodes"]), hist["pageInfo"]["endCursor"], bool(hist["pageInfo"]["hasNextPage"])
                )
                remaining = (data["data"].get("rateLimit") or {}).get("remaining")
            except (KeyError, TypeError) as exc:
                raise ServiceError(f"GitHub answered the history of {repo} in an unexpected shape ({exc})") from None
            if isinstance(remaining, int):
                self.rate_remaining = remaining
            yield page
            if not page.has_next:
                return
            cursor = page.end_cursor

    def owner_repositories(self, owner: str) -> list[OwnedRepo]:
        """Every repository an organisation or user owns, one request per 100."""
        found: list[OwnedRepo] = []
        cursor: str | None = None
        while True:
            _, _, data = self.request(
                "POST",
                self.graphql_url,
                body={"query": OWNER_QUERY, "variables": {"login": owner, "cursor": cursor}},
                what=f"the repositories of {owner}",
            )
            holder = ((data or {}).get("data") or {}).get("repositoryOwner")
            if holder is None:
                raise Refused(
                    f"GitHub has no organisation or user {owner!r}",
                    f"check the name, and that the token in ${self.token_env} can see it",
                )
            try:
                page = holder["repositories"]
                for node in page["nodes"] or []:
                    branch = node.get("defaultBranchRef") or {}
                    history = (branch.get("target") or {}).get("history") or {}
                    found.append(
                        OwnedRepo(
                            str(node["nameWithOwner"]),
                            bool(node.get("isArchived")),
                            bool(node.get("isFork")),
                            branch.get("name"),
                            history.get("totalCount"),
                        )
                    )
                if not page["pageInfo"]["hasNextPage"]:
                    return found
                cursor = page["pageInfo"]["endCursor"]
            except (KeyError, TypeError) as exc:
                raise ServiceError(f"GitHub answered the repositories of {owner} in an odd shape ({exc})") from None

    def pull_requests(self, repo: str, cursor: str | None = None) -> Iterator[PullPage]:
        """Pages of 50 pull requests, most recently updated first (continuing at `cursor`), as records."""
        owner, name = repo.split("/", 1)
        while True:
            variables = {"owner": owner, "name": name, "cursor": cursor, "reviews": None, "timeline": None}
            _, _, data = self.request(
                "POST",
                self.graphql_url,
                body={"query": PULLS_QUERY, "variables": variables},
                what=f"the pull requests of {repo}",
            )
            try:
                repo_data = data["data"]["repository"]
                if repo_data is None:
                    raise Refused(
                        f"GitHub has no repository {repo}", f"check the name and the token in ${self.token_env}"
                    )
                conn = repo_data["pullRequests"]
                nodes = [n for n in conn["nodes"] or [] if isinstance(n, dict)]
                info = conn["pageInfo"]
            except (KeyError, TypeError) as exc:
                raise ServiceError(f"GitHub answered the pull requests of {repo} in an odd shape ({exc})") from None
            for node in nodes:
                self._read_on(owner, name, node)
            yield PullPage([pull_record(n) for n in nodes], info.get("endCursor"), bool(info.get("hasNextPage")))
            if not info.get("hasNextPage"):
                return
            cursor = info.get("endCursor")

    def _read_on(self, owner: str, name: str, node: dict[str, Any]) -> None:
        """The reviews and timeline events past the first page of one pull request, added to its node."""
        for _ in range(100):  # 10,000 reviews and events: beyond that, what was read is kept
            pending = {
                part: (node.get(part) or {}).get("pageInfo") or {}
                for part in ("reviews", "timelineItems")
                if ((node.get(part) or {}).get("pageInfo") or {}).get("hasNextPage")
            }
            if not pending:
                return
            variables = {
                "owner": owner,
                "name": name,
                "number": node["number"],
                "reviews": pending["reviews"]["endCursor"] if "reviews" in pending else None,
                "timeline": pending["timelineItems"]["endCursor"] if "timelineItems" in pending else None,
            }
            _, _, data = self.request(
                "POST",
                self.graphql_url,
                body={"query": PULL_MORE_QUERY, "variables": variables},
                what=f"pull request #{node['number']} of {owner}/{name}",
            )
            more = (((data or {}).get("data") or {}).get("repository") or {}).get("pullRequest") or {}
            for part in ("reviews", "timelineItems"):
                if part in pending and isinstance(more.get(part), dict):
                    node[part]["nodes"] = [*(node[part].get("nodes") or []), *(more[part].get("nodes") or [])]
                    node[part]["pageInfo"] = more[part].get("pageInfo") or {}
                elif part in pending:
                    node[part]["pageInfo"] = {}

    def commits_by_oid(self, repo: str, oids: list[str]) -> dict[str, dict[str, Any]]:
        """Commit nodes (same fields as history) for given shas, 50 in one GraphQL request."""
        owner, name = repo.split("/", 1)
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(oids), 50):
            chunk = oids[i : i + 50]
            parts = [
                f'c{n}: object(oid: "{oid}") {{ ... on Commit {{ {COMMIT_FIELDS} }} }}'
                for n, oid in enumerate(chunk)
                if all(ch in "0123456789abcdef" for ch in oid)
            ]
            query = (
                "query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { "
                + " ".join(parts)
                + " } }"
            )
            _, _, data = self.request(
                "POST",
                self.graphql_url,
                body={"query": query, "variables": {"owner": owner, "name": name}},
                what=f"commits of {repo}",
            )
            repo_data = ((data or {}).get("data") or {}).get("repository") or {}
            for node in repo_data.values():
                if isinstance(node, dict) and node.get("oid"):
                    found[node["oid"]] = node
        return found

    def rest_pages(self, path: str, params: dict[str, Any], what: str, items: str | None = None) -> Iterator[list[Any]]:
        """A REST listing 100 a page, each page's items (under `items` when the answer is an object), until a
        short page."""
        page = 1
        while True:
            _, _, data = self.request("GET", path, params={**params, "per_page": 100, "page": page}, what=what)
            found = data.get(items) if items and isinstance(data, dict) else data
            listed: list[Any] = found if isinstance(found, list) else []
            yield listed
            if len(listed) < 100:
                return
            page += 1

    def changed(
        self, path: str, etag: str | None, what: str, params: dict[str, Any] | None = None
    ) -> tuple[bool, str | None]:
        """Whether a listing changed since `etag` and has anything in it (a 304 is free: it does not count
        against the rate limit)."""
        headers = {"If-None-Match": etag} if etag else {}
        query = {"per_page": 1, **(params or {})}
        status, hdrs, data = self.request("GET", path, params=query, headers=headers, what=what)
        return status != 304 and bool(data), hdrs.get("etag") or etag

    def delivery(
        self,
        repo: str,
        environment: str,
        releases: bool,
        deployments: bool,
        stop: Callable[[DeliveryRecord], bool],
    ) -> list[DeliveryRecord]:
        """Releases and deployments newest first, page by page until `stop(record)` says the rest is known."""
        owner, name = repo.split("/", 1)
        found: list[DeliveryRecord] = []
        cursors: dict[str, str | None] = {"releases": None, "deployments": None}
        wanted = {"releases": releases, "deployments": deployments}
        while any(wanted.values()):
            variables = {
                "owner": owner,
                "name": name,
                "env": [environment],
                "releases": cursors["releases"],
                "deployments": cursors["deployments"],
                "withReleases": wanted["releases"],
                "withDeployments": wanted["deployments"],
            }
            _, _, data = self.request(
                "POST",
                self.graphql_url,
                body={"query": DELIVERY_QUERY, "variables": variables},
                what=f"the releases and deployments of {repo}",
            )
            repo_data = ((data or {}).get("data") or {}).get("repository") or {}
            for kind in ("releases", "deployments"):
                if not wanted[kind]:
                    continue
                page = repo_data.get(kind) or {}
                records = [delivery_record(kind, n) for n in page.get("nodes") or [] if isinstance(n, dict)]
                known = next((i for i, r in enumerate(records) if stop(r)), None)
                found += records if known is None else records[:known]
                info = page.get("pageInfo") or {}
                wanted[kind] = known is None and bool(info.get("hasNextPage"))
                cursors[kind] = info.get("endCursor")
        return found

    def copilot_report(self, org: str, report: str, day: str | None = None) -> dict[str, Any] | None:
        """Where a Copilot usage report of an organisation can be downloaded: `report` is `organization` or
        `users`; for one `day`, or the latest 28 days. None: GitHub has no report for that day."""
        path = f"/orgs/{org}/copilot/metrics/reports/{report}-" + ("1-day" if day else "28-day/latest")
        what = f"the Copilot {report} report of {org}" + (f" for {day}" if day else "")
        hint = (
            f'the token in ${self.token_env} needs "Organization Copilot metrics" (read) or read:org, and the '
            'enterprise\'s "Copilot usage metrics" policy must be on; see docs/github.md'
        )
        # a day without a report (before the organisation had one, or not processed yet) answers 404
        ok = (200, 204, 404) if day else (200, 204)
        try:
            status, _, data = self.request("GET", path, params={"day": day} if day else None, what=what, ok=ok)
        except Refused as exc:
            raise Refused(exc.message, hint) from None
        if status in (204, 404) or data is None:
            return None
        if not isinstance(data, dict):
            raise ServiceError(f"GitHub answered {what} in an unexpected shape")
        return data

    def report_file(self, url: str, what: str, max_bytes: int) -> bytes:
        """A report file from its signed link: without the token (the link is the credential), at most
        `max_bytes`, retried on network errors and 5xx like any request."""
        import httpx

        from teamops.config.validate import is_http_url

        api_scheme = self.api_url.split(":", 1)[0]
        if not is_http_url(url) or (url.startswith("http:") and api_scheme != "http"):
            raise ServiceError(f"GitHub gave {what} a link that is not https: refused")

        if self._storage is None:  # one connection for a run's files, never the API's (it carries the token)
            self._storage = httpx.Client(timeout=self.timeout_s, follow_redirects=True)
        http = self._storage

        def attempt(n: int) -> Verdict[bytes]:
            self.downloads += 1
            try:
                with http.stream("GET", url) as r:
                    if r.status_code in SERVER_ERRORS:
                        return Verdict.again(f"HTTP {r.status_code}")
                    if r.status_code != 200:
                        raise ServiceError(
                            f"GitHub's storage answered {what} with HTTP {r.status_code}",
                            "its links expire soon after they are given: run the sync again",
                        )
                    body = bytearray()
                    for chunk in r.iter_bytes():
                        body += chunk
                        if len(body) > max_bytes:
                            raise ServiceError(
                                f"{what} is larger than {max_bytes // 1_000_000:,} MB: refused",
                                "raise [github] copilot_max_mb if your organisation's reports really are",
                            )
                    return Verdict.done(bytes(body))
            except httpx.HTTPError as exc:
                return Verdict.again(f"network error ({type(exc).__name__})")

        return self.policy.run(attempt, what)

    def commit_files(self, repo: str, sha: str, total: int | None = None) -> CommitFiles:
        """A commit's files with patches, all of them when GitHub can give them.

        Get-a-commit lists 300 files a page (per_page is documented up to 100, so it is left out to
        get GitHub's own 300), with Link pages up to 3,000 files. A commit with more (or exactly
        3,000, when its total is unknown) is read again as a unified diff (the diff media type); when
        GitHub cannot make that either, the listed files are used and the cut is said.
        """
        files: list[dict[str, Any]] = []
        page = 1
        while True:
            _, hdrs, data = self.request(
                "GET",
                f"/repos/{repo}/commits/{sha}",
                params={"page": page} if page > 1 else None,
                what=f"commit {sha[:10]} of {repo}",
            )
            batch = data.get("files", []) if isinstance(data, dict) else []
            files.extend(f for f in batch if isinstance(f, dict))
            if 'rel="next"' not in hdrs.get("link", "") or not batch or page >= LISTED_PAGES:
                break
            page += 1
        pairs = [(str(f.get("filename") or ""), str(f.get("patch") or "")) for f in files]
        if len(files) < LISTED_FILES or (total is not None and total <= len(files)):
            return CommitFiles(pairs)
        try:
            _, _, data = self.request(
                "GET",
                f"/repos/{repo}/commits/{sha}",
                headers={"Accept": "application/vnd.github.diff"},
                what=f"the diff of commit {sha[:10]} of {repo}",
            )
        except ServiceError as exc:
            of = f" of its {total:,}" if total else ""
            return CommitFiles(pairs, f"GitHub lists {len(files):,}{of} files and gave no whole diff ({exc.message})")
        text = data.get("data") if isinstance(data, dict) else data
        whole = split_diff(str(text or ""))
        if len(whole) <= len(pairs):
            return CommitFiles(pairs)
        return CommitFiles(whole)


def _parse(output: Any) -> tuple[Any, bool]:
    if output is None or output == "":
        return None, True
    if isinstance(output, bytes):
        output = output.decode("utf-8", "replace")
    try:
        return json.loads(output), True
    except (ValueError, RecursionError):
        return {"data": output}, False


def _is_text(hdrs: dict[str, str]) -> bool:
    ctype = hdrs.get("content-type", "")
    return not ctype or "json" not in ctype


def _graphql_message(data: dict[str, Any]) -> str:
    return "; ".join(str(e.get("message", e)) for e in data.get("errors", []))[:300]


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def account(login: object, bot: bool) -> tuple[str | None, str]:
    """(login, kind) of a GitHub account as GraphQL or a webhook names it: "user", "bot", or "ghost" for a
    deleted one (GitHub sends no login)."""
    if not isinstance(login, str) or not login:
        return None, "ghost"
    return login, "bot" if bot or login.endswith("[bot]") else "user"


def github_client(cfg: Config, required: bool = True, budget: RateBudget | None = None) -> GitHubClient | None:
    """A client with the token from the variable `[github] token_env` names; exit 3 when missing."""
    gh = cfg.github
    token = secret(gh.token_env)
    if not token:
        if not required:
            return None
        raise ConfigError(
            f"${gh.token_env} is not set: GitHub's GraphQL API needs a token",
            "create a read-only token (Contents and Metadata) and export it; see docs/github.md",
        )
    return GitHubClient(
        gh.api_url,
        token,
        token_env=gh.token_env,
        timeout_s=gh.timeout_s,
        max_wait_s=gh.max_wait_s,
        max_retries=gh.max_retries,
        budget=budget,
    )
