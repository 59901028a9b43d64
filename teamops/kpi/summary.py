"""The one-screen summary: what the team shipped in a window, and the sprint and flow numbers when there are tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from teamops.config import Config
from teamops.kpi.activity import ActivityFilter, ActivityRow, RepoActivityRow, activity, activity_by_repo
from teamops.kpi.burndown import burndown
from teamops.kpi.dora import Dora, dora, dora_line
from teamops.kpi.flow import TaskFilter, cycle_time, efficiency, finished_tasks, flow_phrase
from teamops.kpi.prs import PrFlow, pr_flow, summary_line
from teamops.kpi.velocity import sprint_velocity
from teamops.kpi.windows import Window, resolve
from teamops.store.commits import first_and_last, latest_commit_before
from teamops.store.deployments import any_deployment, latest_deployment_before
from teamops.store.pulls import any_pull
from teamops.store.sprints import any_started, current_sprint
from teamops.store.tasks import any_task, latest_done_before
from teamops.wording import count, number, percent, quantity

if TYPE_CHECKING:
    from teamops.store.reader import Reader

DEFAULT_WEEKS = 4
FILL_THE_REST = (
    "For sprint, velocity, flow and cycle-time numbers, add tasks and sprints\n"
    "(teamops task add / sprint add) or sync them from ClickUp or Jira (teamops sync-tasks)."
)
REPO_LINES = 10  # repositories named one per line; the rest counted
SPRINT_KEYS = ("sprint", "start", "end", "status", "committed", "remaining", "ideal_now", "trend", "working_days_left")


@dataclass
class Summary:
    """Everything the summary shows, for any format."""

    window: Window
    has_tasks: bool
    has_sprints: bool
    first_commit: str | None
    last_commit: str | None
    activity: list[ActivityRow]
    sprint: dict[str, Any] | None = None
    velocity: dict[str, Any] = field(default_factory=dict)
    efficiency: dict[str, Any] = field(default_factory=dict)
    cycle_time: dict[str, Any] = field(default_factory=dict)
    delivery: Dora | None = None
    pulls: PrFlow | None = None
    # When the default window holds none of a kind that exists (old commits, a new task), that kind
    # is shown over its own default window up to its latest item, and says so.
    commit_window: Window | None = None
    delivery_window: Window | None = None
    repos: list[RepoActivityRow] = field(default_factory=list)  # when the commits span several repositories
    assisted: dict[str, Any] | None = None  # commits an AI assistant co-wrote (kpi ai), once any are known

    @property
    def empty(self) -> bool:
        return not self.has_tasks and not self.has_sprints and self.first_commit is None

    def totals(self) -> dict[str, Any]:
        rows = self.activity
        return {
            "commits": sum(r.commits for r in rows),
            "people": len(rows),
            "additions": sum(r.additions for r in rows),
            "deletions": sum(r.deletions for r in rows),
            "ai_points": round(sum(r.ai_points for r in rows), 2),
            "ai_hours": round(sum(r.ai_hours for r in rows), 1),
            "estimated_commits": sum(r.estimated_commits for r in rows),
        }

    def facts(self) -> list[tuple[str, str]]:
        """(metric, value) lines as people read them; the same in the table, CSV and Markdown."""
        w = self.window
        facts = [("period", w.how or w.label)]
        t = self.totals()
        if t["commits"]:
            facts.append(
                (
                    "commits",
                    f"{count(t['commits'], 'commit')} by {count(t['people'], 'person', 'people')} "
                    f"(+{t['additions']:,} / -{t['deletions']:,} lines)",
                )
            )
            if t["estimated_commits"]:
                facts.append(
                    (
                        "AI points",
                        f"{quantity(t['ai_points'], 'point')}, {quantity(t['ai_hours'], 'hour')} "
                        f"({t['estimated_commits']:,} of {count(t['commits'], 'commit')} estimated)",
                    )
                )
            else:
                facts.append(("AI points", "no estimates yet: run `teamops analyze`"))
            if self.assisted is not None:
                a = self.assisted
                named = ", ".join(f"{name} {n:,}" for name, n in a["assistants"].items())
                facts.append(
                    (
                        "AI-assisted",
                        f"{percent(a['share'])} of commits ({a['assisted_commits']:,})"
                        + (f": {named}" if named else ""),
                    )
                )
            top = sorted(self.activity, key=lambda r: (-r.commits, r.person))[:3]
            facts.append(("top people", ", ".join(f"{r.who} {r.commits:,}" for r in top)))
            if len(self.repos) > 1:
                for repo in self.repos[:REPO_LINES]:
                    facts.append(
                        (
                            f"repo {repo.repo}",
                            f"{count(repo.commits, 'commit')} by {count(repo.people, 'person', 'people')} "
                            f"(+{repo.additions:,} / -{repo.deletions:,} lines)",
                        )
                    )
                rest = self.repos[REPO_LINES:]
                if rest:
                    n = sum(r.commits for r in rest)
                    facts.append(
                        (
                            "other repos",
                            f"{len(rest):,} more with {count(n, 'commit')}: teamops kpi activity --by repo",
                        )
                    )
        else:
            facts.append(("commits", "none in this period"))
        if self.commit_window is not None and t["commits"]:
            facts.insert(1, ("commits period", f"{self.commit_window.label}, up to the latest commit (none since)"))
        if self.first_commit and self.last_commit:
            facts.append(("history", f"commits from {self.first_commit[:10]} to {self.last_commit[:10]}"))
        s = self.sprint
        if s:
            facts += [
                ("sprint", f"{s['sprint']} ({s['start']} to {s['end']}, {s['status']})"),
                ("committed / completed", f"{number(s['committed'])} / {number(s['completed'])} points"),
                ("say/do", percent(s["say_do"])),
                (
                    "burndown",
                    f"{number(s['remaining'])} remaining vs {number(s['ideal_now'])} ideal: {s['trend']}"
                    if s["remaining"] is not None
                    else "not started",
                ),
                ("working days left", str(s["working_days_left"])),
            ]
        if self.has_sprints:
            v = self.velocity
            facts.append(
                (
                    "velocity",
                    f"{number(v['points'])} points (last {count(v['sprints'], 'sprint')})"
                    if v["points"] is not None
                    else "n/a until a sprint has finished",
                )
            )
        if self.has_tasks:
            e = self.efficiency
            facts.append(("flow efficiency", flow_phrase(e["flow_efficiency"], e["tasks"], e["measured_tasks"])))
            acc = e["estimate_accuracy"]
            facts.append(
                ("estimate accuracy", f"{number(acc)} (spent ÷ estimated hours)" if acc is not None else "n/a")
            )
            for metric in ("cycle_time", "lead_time"):
                c = self.cycle_time[metric]
                value = (
                    f"median {number(c['median_days'])} d, 85th pct {number(c['p85_days'])} d "
                    f"({count(c['tasks'], 'task')})"
                    if c["tasks"]
                    else "n/a"
                )
                facts.append((metric.replace("_", " "), value))
        if self.pulls is not None:
            facts.append(("pull requests", summary_line(self.pulls)))
        if self.delivery is not None:
            if self.delivery_window is not None:
                facts.append(("delivery period", f"{self.delivery_window.label}, up to the latest deployment"))
            facts.append(("delivery (DORA)", dora_line(self.delivery)))
        return facts

    @property
    def note(self) -> str | None:
        """One line on what would fill the rest of the summary."""
        return None if self.has_tasks or self.has_sprints else FILL_THE_REST

    def to_json(self) -> dict[str, Any]:
        return {
            "report": "summary",
            **self.window.meta(),
            "period": self.window.label,
            "default_window": self.window.how,
            "history": {"first_commit": self.first_commit, "last_commit": self.last_commit},
            "totals": self.totals(),
            "sprint": self.sprint,
            "velocity": self.velocity or None,
            "efficiency": self.efficiency or None,
            "cycle_time": self.cycle_time or None,
            "dora": self.delivery.meta() if self.delivery is not None else None,
            "pull_requests": self.pulls.meta() if self.pulls is not None else None,
            "commit_window": self.commit_window.meta() if self.commit_window else None,
            "delivery_window": self.delivery_window.meta() if self.delivery_window else None,
            "activity": [r.row() for r in self.activity],
            "repos": [r.row() for r in self.repos],
            "ai_assisted": self.assisted,
            "rows": [{"metric": k, "value": v} for k, v in self.facts()],
        }


def latest_activity_before(db: Reader, moment: str) -> str | None:
    """The latest commit or finished task before a moment: what a default window falls back to."""
    found = [t for t in (latest_commit_before(db, moment), latest_done_before(db, moment)) if t]
    return max(found) if found else None


def summarize(
    db: Reader,
    cfg: Config,
    now: datetime,
    *,
    since: str | None = None,
    until: str | None = None,
    last: str | None = None,
    sprint: str | None = None,
    person: str | None = None,
    team: str | None = None,
    repos: list[int] | None = None,
    bots: list[str] | None = None,
) -> Summary:
    """The summary of a window (default: the last 4 weeks, or the 4 weeks up to the latest activity).

    Once there are tasks, every section speaks of that one window; before, commits and deployments each
    fall back to their own latest 4 weeks (and say so). `bots` (emails) are left out of the people.
    """
    window = resolve(
        since, until, last, now, default_weeks=DEFAULT_WEEKS, latest_before=lambda m: latest_activity_before(db, m)
    )
    first, last_commit = first_and_last(db)
    has_tasks, has_sprints = any_task(db), any_started(db)
    picked = ActivityFilter(window.since, window.until, person, team, repos, bots or [])
    rows = activity(db, picked)
    default = since is None and until is None and last is None
    own_windows = default and not has_tasks  # with tasks, one period for every section
    commit_window = None
    if own_windows and not rows and first is not None:
        own = resolve(
            None, None, None, now, default_weeks=DEFAULT_WEEKS, latest_before=lambda m: latest_commit_before(db, m)
        )
        if own != window:
            own_flt = ActivityFilter(own.since, own.until, person, team, repos, bots or [])
            rows = activity(db, own_flt)
            commit_window = own if rows else None
            picked = own_flt if rows else picked
    summary = Summary(window, has_tasks, has_sprints, first, last_commit, rows, commit_window=commit_window)
    summary.repos = activity_by_repo(db, picked) if rows else []
    if rows and person is None and team is None:
        from teamops.kpi.ai import assisted_share

        shown = commit_window or window
        summary.assisted = assisted_share(db, shown.since, shown.until, repos)
    if has_sprints or sprint:
        vel = sprint_velocity(db, cfg, now, team)
        summary.velocity = {"points": vel.velocity, "sprints": vel.velocity_sprints}
        name = sprint or current_sprint(db)
        if name:
            bd = burndown(db, cfg, name, now)
            row = vel.sprint(name)
            summary.sprint = {
                **{k: getattr(bd, k) for k in SPRINT_KEYS},
                "completed": row.completed if row else 0.0,
                "say_do": row.say_do if row else None,
                "scope_changes": len(bd.scope_changes),
            }
    if has_tasks:
        flt = TaskFilter(window.since, window.until, None, person, team)
        done = finished_tasks(db, cfg, flt)
        eff = efficiency(db, cfg, flt, done)
        summary.efficiency = {
            "tasks": eff.tasks,
            "measured_tasks": eff.measured_tasks,
            "flow_efficiency": eff.flow_efficiency,
            "estimate_accuracy": eff.estimate_accuracy,
        }
        cyc = cycle_time(db, cfg, flt, done)
        summary.cycle_time = {
            r.metric: {"median_days": r.median_days, "p85_days": r.p85_days, "tasks": r.tasks} for r in cyc.rows
        }
    if any_pull(db):
        summary.pulls = pr_flow(db, cfg, window.since, window.until, repos, None)
    if any_deployment(db):
        summary.delivery = dora(db, cfg, window.since, window.until, repos)
        if own_windows and not summary.delivery.rows:
            own = resolve(
                None,
                None,
                None,
                now,
                default_weeks=DEFAULT_WEEKS,
                latest_before=lambda m: latest_deployment_before(db, m),
            )
            delivery = dora(db, cfg, own.since, own.until, repos)
            if delivery.rows:
                summary.delivery, summary.delivery_window = delivery, own
    return summary
