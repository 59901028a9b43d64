"""Jira's records as teamops reads them: the fields a site names its own way, an issue's values, its changelog,
and descriptions in Atlassian Document Format turned to plain text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from teamops.records import number

POINTS_NAMES = ("story points", "story point estimate")  # company-managed, team-managed projects
SPRINT_SCHEMA = "com.pyxis.greenhopper.jira:gh-sprint"
ADF_MAX_NODES = 20_000  # a description deeper or longer than this is cut: it is for search, not for show
TEXT_MAX = 20_000


def adf_text(doc: Any) -> str:
    """The plain text of an Atlassian Document Format tree (paragraphs on lines, mentions by name), bounded
    in nodes and length; a plain string is taken as it is. Never markup: the text is stored and searched."""
    if isinstance(doc, str):
        return doc[:TEXT_MAX]
    out: list[str] = []
    stack: list[Any] = [doc]
    seen = 0
    while stack and seen < ADF_MAX_NODES:
        node = stack.pop()
        seen += 1
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        attrs = node.get("attrs") if isinstance(node.get("attrs"), dict) else {}
        if kind == "text" and isinstance(node.get("text"), str):
            out.append(node["text"])
        elif kind in ("mention", "emoji", "status") and isinstance(attrs, dict):
            out.append(str(attrs.get("text") or attrs.get("shortName") or ""))
        elif kind in ("inlineCard", "blockCard") and isinstance(attrs, dict):
            out.append(str(attrs.get("url") or ""))
        elif kind == "hardBreak":
            out.append("\n")
        content = node.get("content")
        if isinstance(content, list):
            if kind in ("paragraph", "heading", "listItem", "codeBlock", "blockquote", "tableRow"):
                stack.append({"type": "hardBreak"})
            stack.extend(reversed(content))
    text = "".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()[:TEXT_MAX]


@dataclass
class SiteFields:
    """The ids this site gives the fields teamops reads (custom ones differ from site to site)."""

    points: list[str] = field(default_factory=list)  # every story-point field: a site may have both
    sprint: str | None = None
    accountable: str | None = None

    def wanted(self) -> list[str]:
        """The fields a search asks for: never all of them."""
        base = ["summary", "status", "resolution", "resolutiondate", "assignee", "reporter", "issuetype", "parent"]
        base += ["created", "updated", "description", "project", "duedate"]
        return base + self.points + [f for f in (self.sprint, self.accountable) if f]

    def history(self) -> list[str]:
        """The fields whose changes become task events (a bulk changelog takes at most 10)."""
        return (["status", "resolution"] + self.points + ([self.sprint] if self.sprint else []))[:10]


def site_fields(listing: Any, points_field: str, accountable_field: str) -> SiteFields:
    """The site's fields by id or name: the configured ones, else story points by their two names and the
    sprint field by its schema."""
    fields = (
        [f for f in listing if isinstance(f, dict) and isinstance(f.get("id"), str)]
        if isinstance(listing, list)
        else []
    )

    def named(wanted: str) -> str | None:
        wanted = wanted.strip().lower()
        return next(
            (f["id"] for f in fields if f["id"].lower() == wanted or str(f.get("name") or "").lower() == wanted),
            None,
        )

    found = SiteFields()
    if points_field:
        chosen = named(points_field)
        found.points = [chosen] if chosen else []
    else:
        found.points = [f["id"] for f in fields if str(f.get("name") or "").strip().lower() in POINTS_NAMES]
    schema = [f for f in fields if isinstance(f.get("schema"), dict) and f["schema"].get("custom") == SPRINT_SCHEMA]
    found.sprint = schema[0]["id"] if schema else named("sprint")
    found.accountable = named(accountable_field) if accountable_field else None
    return found


def user_of(raw: Any) -> dict[str, Any] | None:
    """A user as Jira shows it: accountId, name, email when the site shows it (often hidden), app or not."""
    if not isinstance(raw, dict) or not isinstance(raw.get("accountId"), str):
        return None
    return {
        "id": raw["accountId"][:128],
        "name": str(raw.get("displayName") or "")[:200] or None,
        "email": str(raw.get("emailAddress") or "")[:320] or None,
        "app": raw.get("accountType") == "app",
    }


@dataclass
class JiraIssue:
    """One issue's current values, checked field by field."""

    id: str
    key: str
    title: str
    status: str
    category: str  # new, indeterminate, done
    resolution: str | None
    resolved: str | None
    created: str
    updated: str
    points: float | None
    sprints: list[dict[str, Any]]
    assignee: dict[str, Any] | None
    accountable: list[dict[str, Any]]
    parent: str | None
    issue_type: str
    description: str
    due: str | None
    project: str


def issue_of(raw: Any, fields: SiteFields) -> JiraIssue | None:
    """An issue of a search page; None for one that cannot be read."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("key"), str):
        return None
    f = raw.get("fields") if isinstance(raw.get("fields"), dict) else {}
    assert isinstance(f, dict)
    created, updated = f.get("created"), f.get("updated")
    if not isinstance(created, str) or not isinstance(updated, str):
        return None
    status = f.get("status") if isinstance(f.get("status"), dict) else {}
    assert isinstance(status, dict)
    category = status.get("statusCategory") if isinstance(status.get("statusCategory"), dict) else {}
    assert isinstance(category, dict)
    resolution = f.get("resolution") if isinstance(f.get("resolution"), dict) else None
    points = next((p for p in (number(f.get(pid)) for pid in fields.points) if p is not None), None)
    sprints = f.get(fields.sprint) if fields.sprint else None
    chosen = f.get(fields.accountable) if fields.accountable else None
    people = chosen if isinstance(chosen, list) else [chosen]
    parent = f.get("parent") if isinstance(f.get("parent"), dict) else None
    kind = f.get("issuetype") if isinstance(f.get("issuetype"), dict) else {}
    project = f.get("project") if isinstance(f.get("project"), dict) else {}
    assert isinstance(kind, dict) and isinstance(project, dict)
    return JiraIssue(
        id=raw["id"],
        key=raw["key"][:64],
        title=str(f.get("summary") or raw["key"])[:500],
        status=str(status.get("name") or "")[:100],
        category=str(category.get("key") or ""),
        resolution=str(resolution.get("name"))[:100] if resolution and resolution.get("name") else None,
        resolved=f.get("resolutiondate") if isinstance(f.get("resolutiondate"), str) else None,
        created=created,
        updated=updated,
        points=points,
        sprints=[s for s in sprints if isinstance(s, dict) and s.get("id") is not None]
        if isinstance(sprints, list)
        else [],
        assignee=user_of(f.get("assignee")),
        accountable=[u for u in (user_of(p) for p in people) if u],
        parent=str(parent.get("key"))[:64] if parent and parent.get("key") else None,
        issue_type=str(kind.get("name") or "")[:100],
        description=adf_text(f.get("description")) if f.get("description") else "",
        due=f.get("duedate") if isinstance(f.get("duedate"), str) else None,
        project=str(project.get("key") or raw["key"].split("-")[0]),
    )


@dataclass(frozen=True)
class Change:
    """One item of an issue's changelog: when, by whom, which field, from what to what."""

    id: str
    at: str
    actor: str | None
    field: str
    field_id: str
    old: str | None
    new: str | None
    old_id: str | None
    new_id: str | None


def changes_of(history: Any) -> list[Change]:
    """The items of one changelog entry (a history), checked."""
    if not isinstance(history, dict) or not isinstance(history.get("created"), str):
        return []
    author = user_of(history.get("author"))
    out = []
    for item in history.get("items") or []:
        if not isinstance(item, dict):
            continue
        out.append(
            Change(
                str(history.get("id") or ""),
                history["created"],
                author["id"] if author else None,
                str(item.get("field") or ""),
                str(item.get("fieldId") or item.get("field") or ""),
                item.get("fromString") if isinstance(item.get("fromString"), str) else None,
                item.get("toString") if isinstance(item.get("toString"), str) else None,
                item.get("from") if isinstance(item.get("from"), str) else None,
                item.get("to") if isinstance(item.get("to"), str) else None,
            )
        )
    return out
