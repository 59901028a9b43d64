"""`teamops report html`: the team's figures as a static site, every page readable from disk with no request.

Each section of a page is the report a `teamops kpi …` command prints, built by the same function and
named on the page with that command, so the site and the terminal can never disagree.
"""

from __future__ import annotations

import fnmatch
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from teamops import __version__
from teamops.reports.model import Report, filled, limited, shown
from teamops.wording import count, hours_text, number, percent

if TYPE_CHECKING:
    from teamops.config import Config
    from teamops.kpi.windows import Window
    from teamops.store.reader import Reader

TOP_PEOPLE = 10  # the index lists this many people; each has a page with the rest
EMAIL_IN_NAME = re.compile(r"\s*<[^<>]*@[^<>]*>")


@dataclass
class Section:
    """One report on a page, the command that prints the same figures, and its chart drawn as SVG."""

    report: Report
    command: list[str]
    chart: str | None = None
    links: dict[str, str] = field(default_factory=dict)  # a row's first cell → the page about it
    tiles: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Page:
    """A file of the site: a title, its place among the others, and its sections."""

    path: str
    title: str
    heading: str
    kind: str
    sections: list[Section] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def root(self) -> str:
        """The way back to the index from this page (`../` from a subfolder): links work from disk."""
        return "../" * self.path.count("/")


def slug(text: str, taken: set[str]) -> str:
    """A file name for a person, team or repository: lowercase ASCII, unique within its folder."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:60] or "page"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


# What a terminal reader is told to type: a page's reader has no terminal. A parenthesis that names a flag or a
# command, and a clause that sends the reader to one (": see `teamops …`", "; try --last 14m").
CLI_PAREN = re.compile(r"\s*\([^()]*(?:--|`teamops|teamops )[^()]*\)")
CLI_CLAUSE = re.compile(r"\s*[:;,]\s*(?:see|run|try|set them with|sync with)\b[^;\n]*(?:--|`teamops|teamops )[^;\n]*")


PERIOD_WEEKS = 12  # every section of a page speaks of these weeks, up to the latest activity stored
TREND_WEEKS = 26  # the weekly trend, labelled, ends with them


def _bounds(win: Window) -> list[str]:
    return ["--since", win.since or "", "--until", win.until or ""]


def without_cli_hints(text: str | None) -> str | None:
    """A report's footer or empty-state text as a page shows it: the figures, not the commands."""
    if not text:
        return text
    lines = [CLI_CLAUSE.sub("", CLI_PAREN.sub("", line)).rstrip(" :;,") for line in text.splitlines()]
    return "\n".join(line for line in lines if line and "`teamops" not in line and " --" not in line) or None


class Site:
    """Builds every page from one database, leaving out what `[report] exclude` names and, unless asked, emails."""

    def __init__(
        self, db: Reader, cfg: Config, now: datetime, *, emails: bool = False, include_bots: bool = False
    ) -> None:
        from teamops.people.bots import find, patterns

        self.db, self.cfg, self.now, self.emails = db, cfg, now, emails
        self.bots = None if include_bots else find(db, cfg)  # bots are no people here either
        self.bot_patterns = None if include_bots else patterns(cfg)
        self.patterns = [p.lower() for p in cfg.report.exclude]
        self.tz = ZoneInfo(cfg.reminders.default_timezone)  # checked when the config was read
        self.person_pages: dict[str, str] = {}
        self.repo_pages: dict[str, str] = {}
        self.team_pages: dict[str, str] = {}
        self._charts = 0
        self._periods: tuple[Window, Window] | None = None
        self._any_incident: bool | None = None

    def hidden(self, *values: str | None) -> bool:
        """Whether `[report] exclude` names this person (any of handle, name, email) or repository."""
        return any(v and fnmatch.fnmatchcase(v.lower(), p) for v in values for p in self.patterns)

    def pages(self) -> list[Page]:
        """The index, then a page per team, repository and person that is not excluded."""
        from teamops.store.commits import repo_names
        from teamops.store.people import identities_of, people

        taken: dict[str, set[str]] = {"teams": set(), "repos": set(), "people": set()}
        persons, everyone = [], people(self.db)
        for p in everyone:
            emails = identities_of(self.db, p.id, "email")
            if not self.hidden(p.handle, p.name, *emails):
                self.person_pages[p.handle] = f"people/{slug(p.handle, taken['people'])}.html"
                persons.append((p, emails))
        teams = sorted({p.team for p in everyone if p.team})  # a team's page stays when a member is excluded
        for team in teams:
            self.team_pages[team] = f"teams/{slug(team, taken['teams'])}.html"
        for name in repo_names(self.db):
            if not self.hidden(name):
                self.repo_pages[name] = f"repos/{slug(name, taken['repos'])}.html"
        out = [self.index()]
        out += [self.team_page(team) for team in teams]
        out += [self.repo_page(name) for name in self.repo_pages]
        out += [self.person_page(p, emails) for p, emails in persons]
        return out

    # -- pages -------------------------------------------------------------------------------------

    def index(self) -> Page:
        page = Page("index.html", "Team dashboard", "Team dashboard", "index")
        page.sections = self.common(page, [])
        return page

    def team_page(self, team: str) -> Page:
        page = Page(self.team_pages[team], f"Team {team}", f"Team {team}", "team")
        page.sections = self.common(page, ["--team", team], team=team)
        return page

    def repo_page(self, name: str) -> Page:
        page = Page(self.repo_pages[name], f"Repository {name}", f"Repository {name}", "repo")
        page.sections = self.common(page, ["--repo", name], repo=name)
        return page

    def person_page(self, person: Any, emails: list[str]) -> Page:
        title = f"{person.name} ({person.handle})" if person.name and person.name != person.handle else person.handle
        page = Page(self.person_pages[person.handle], title, title, "person")
        if person.team:
            page.facts.append(("Team", person.team))
        if self.emails and emails:
            page.facts.append(("Email", ", ".join(emails)))
        from teamops.kpi.activity import ActivityFilter, history_span

        ever = history_span(self.db, ActivityFilter(person=person.handle))
        if ever.commits and ever.first and ever.last:
            page.facts.append(("All time", f"{count(ever.commits, 'commit')}, {ever.first[:10]} to {ever.last[:10]}"))
        page.sections = self.common(page, ["--person", person.handle], person=person.handle)
        return page

    def common(
        self, page: Page, flags: list[str], team: str | None = None, repo: str | None = None, person: str | None = None
    ) -> list[Section]:
        """The sections every page has, for its filter: delivery, the weekly trend, activity, pull requests, sprints."""
        from teamops.reports.activity import activity_report

        repos = [repo] if repo else None
        period, trend = self.periods()
        page.facts.insert(0, ("Period", f"{period.label}, the {PERIOD_WEEKS} weeks up to the latest activity"))
        sections = []
        if person is None:
            sections.append(self.dora(page, flags, team, repos))
            if team is None and self.cfg.services:
                sections.append(self.services(page, repos))
            sections += self.incidents(page, flags, team, repos)
        weekly = activity_report(self.db, trend, person, team, repos, "week", self.bots)
        weekly.title = f"Trend over {TREND_WEEKS} weeks: {weekly.title}"
        sections.append(self.section(page, weekly, self._span(trend, "--by", "week", *flags)))
        by = "repo" if person else "person"
        act = activity_report(self.db, period, person, team, repos, by, self.bots)
        top = TOP_PEOPLE if page.kind == "index" else None
        sections.append(self.section(page, act, self._span(period, "--by", by, *flags), limit=top))
        sections += self.pulls(page, flags, team, repos, person)
        if team is None and person is None:
            sections += self.ai(page, repos)
        if repo is None and person is None:
            sections += self.sprints(page, flags, team)
        return sections

    def periods(self) -> tuple[Window, Window]:
        """The one period every section of every page speaks of (the 12 weeks up to the latest commit,
        deployment or merge), and the longer trend that ends with it, labelled as such."""
        if self._periods is None:
            from teamops.clock import parse_iso, to_iso
            from teamops.kpi.windows import Window
            from teamops.reports.window import window

            period = window(None, None, None, PERIOD_WEEKS, self.latest_before)
            assert period.until is not None
            start = to_iso(parse_iso(period.until) - timedelta(weeks=TREND_WEEKS))
            self._periods = (period, Window(start, period.until, TREND_WEEKS, period.anchored_at))
        return self._periods

    def dora(self, page: Page, flags: list[str], team: str | None, repos: list[str] | None) -> Section:
        from teamops.reports.dora import dora_report

        period, _ = self.periods()
        report = dora_report(self.db, self.cfg, period.since, period.until, team=team, repo=repos)
        section = self.section(page, report, ["kpi", "dora", *flags, *_bounds(period)])
        meta = report.meta
        bands = meta.get("bands") or {}
        if report.rows:
            section.tiles = [
                _tile("Deployments", f"{number(meta['deploys_per_week'])} a week", "deploys_per_week", bands),
                _tile("Change lead time (median)", hours_text(meta["lead_time_median_h"]), "lead_time_hours", bands),
                _tile("Change fail rate", percent(meta["change_failure_rate"]), "change_failure_rate", bands),
                _tile(
                    "Recovery time (median)",
                    hours_text(meta["recovery_time_median_h"]),
                    "time_to_restore_hours",
                    bands,
                ),
                _tile("Rework rate", percent(meta["rework_rate"]), "rework_rate", bands),  # 2024: no band yet
            ]
        return section

    def services(self, page: Page, repos: list[str] | None) -> Section:
        """DORA's metrics per `[[services]]` entry, as `kpi dora --by service` prints them."""
        from teamops.reports.dora import dora_groups_report

        period, _ = self.periods()
        report = dora_groups_report(self.db, self.cfg, "service", period.since, period.until, repo=repos)
        flags = ["--repo", repos[0]] if repos else []
        return self.section(page, report, ["kpi", "dora", "--by", "service", *flags, *_bounds(period)])

    def incidents(self, page: Page, flags: list[str], team: str | None, repos: list[str] | None) -> list[Section]:
        """The period's incidents and the deployment each failed, where any incident is known at all."""
        from teamops.reports.incidents import incidents_report

        period, _ = self.periods()
        report = incidents_report(self.db, self.cfg, period.since, period.until, repo=repos, team=team)
        if not report.rows and not self.any_incident():
            return []
        return [self.section(page, report, ["kpi", "incidents", *flags, *_bounds(period)])]

    def any_incident(self) -> bool:
        """Whether incidents are recorded or read at all (a page with none says so only then)."""
        if self._any_incident is None:
            from teamops.store.incidents import any_incident

            self._any_incident = any_incident(self.db)
        return self._any_incident

    def ai(self, page: Page, repos: list[str] | None) -> list[Section]:
        """How much of the period's work an AI assistant co-wrote, week by week, and assisted work beside the rest,
        once any assisted work is known; and the assistants' own usage reports, where they are synced."""
        from teamops.reports.ai import ai_reports, usage_report
        from teamops.store.assistant_usage import any_usage
        from teamops.store.assists import any_assist

        period, _ = self.periods()
        flags = ["--repo", repos[0]] if repos else []
        sections = []
        if any_assist(self.db):
            report, beside = ai_reports(self.db, self.cfg, period.since, period.until, repos)
            sections += [
                self.section(page, report, ["kpi", "ai", *flags, *_bounds(period)]),
                self.section(page, beside, ["kpi", "ai", "--compare", *flags, *_bounds(period)]),
            ]
        if repos is None and any_usage(self.db) and period.since and period.until:
            reported = usage_report(self.db, period.since, period.until, period.label, "week", period.meta())
            sections.append(self.section(page, reported, ["kpi", "ai", "--usage", *_bounds(period)]))
        return sections

    def pulls(
        self, page: Page, flags: list[str], team: str | None, repos: list[str] | None, person: str | None
    ) -> list[Section]:
        from teamops.reports.prs import prs_report
        from teamops.store.pulls import any_pull

        if not any_pull(self.db):
            return []
        period, _ = self.periods()
        out = [
            self.section(
                page,
                prs_report(self.db, self.cfg, period.since, period.until, repo=repos, team=team, person=person),
                ["kpi", "prs", *flags, *_bounds(period)],
            )
        ]
        if team is None and person is None:
            out.append(self.reviews(page, repos))
        return out

    def reviews(self, page: Page, repos: list[str] | None) -> Section:
        """Who reviews how much; who-reviews-whom said again without the people `[report] exclude` names."""
        from teamops.reports.prs import pairs_line, reviews_report

        period, _ = self.periods()
        report = reviews_report(self.db, period.since, period.until, repo=repos, bots=self.bot_patterns)
        pairs = [p for p in report.meta["pairs"] if not self.hidden(p["reviewer"], p["author"])]
        report.footer = pairs_line(pairs)
        return self.section(
            page, report, ["kpi", "reviews", *(["--repo", repos[0]] if repos else []), *_bounds(period)]
        )

    def sprints(self, page: Page, flags: list[str], team: str | None) -> list[Section]:
        from teamops.reports.burndown import burndown_report
        from teamops.reports.velocity import velocity_report
        from teamops.store.sprints import current_sprint
        from teamops.store.tasks import any_task

        if not any_task(self.db):
            return []
        out = []
        sprint = current_sprint(self.db)
        if sprint and team is None:
            out.append(
                self.section(page, burndown_report(self.db, self.cfg, sprint), ["kpi", "burndown", "--sprint", sprint])
            )
        out.append(self.section(page, velocity_report(self.db, self.cfg, team=team), ["kpi", "velocity", *flags]))
        return out

    # -- sections ----------------------------------------------------------------------------------

    def section(self, page: Page, report: Report, command: list[str], limit: int | None = None) -> Section:
        """A report made fit to publish (no excluded rows, no emails, the first `limit`), with its chart
        drawn and rows linked."""
        from teamops.render.svg import svg

        shown_rows = [self._public(r) for r in report.rows if self._shown_row(r)]
        report.rows, report.more = limited(shown_rows, limit)
        report.footer = without_cli_hints(report.footer)
        report.empty = without_cli_hints(report.empty) or ("" if report.rows else "nothing in this period")
        chart = None
        if report.chart and report.rows and len(report.chart.labels) > 1:  # one period is no trend: the table says it
            self._charts += 1
            chart = svg(report.chart, f"c{self._charts}")
        links = {}
        for row in report.rows:
            target = self.person_pages.get(row.get("person") or "") or self.repo_pages.get(row.get("repo") or "")
            if target:
                links[str(row.get("person") or row.get("repo"))] = page.root + target
        return Section(report, command, chart, links)

    def _shown_row(self, row: dict[str, Any]) -> bool:
        person = row.get("person")
        email = None
        if isinstance(person, str) and (match := EMAIL_IN_NAME.search(person)):
            email = match.group(0).strip(" <>")
        return not self.hidden(row.get("repo"), person, row.get("name"), email)

    def _public(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row as published: an unmapped author's email left out unless --emails."""
        if self.emails:
            return row
        return {k: EMAIL_IN_NAME.sub("", v) if isinstance(v, str) else v for k, v in row.items()}

    @staticmethod
    def _span(win: Window, *flags: str) -> list[str]:
        return ["kpi", "activity", *flags, *_bounds(win)]

    # -- the whole site ------------------------------------------------------------------------------

    def latest(self) -> str | None:
        """The newest commit, deployment or merge stored: the data's own age, in the footer."""
        return self.latest_before("9999-12-31T00:00:00Z")

    def latest_before(self, moment: str) -> str | None:
        """The newest commit, deployment or merge before a moment: where the page period ends when quiet."""
        from teamops.store.commits import latest_commit_before
        from teamops.store.deployments import latest_deployment_before
        from teamops.store.pulls import latest_merge_before

        stamps = [f(self.db, moment) for f in (latest_commit_before, latest_deployment_before, latest_merge_before)]
        return max((s for s in stamps if s), default=None)

    def render(self, pages: list[Page]) -> dict[str, str]:
        """Every page's HTML by its path."""
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        env = Environment(
            loader=FileSystemLoader(Path(__file__).parent / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["cell"] = shown
        env.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False, default=str)
        template = env.get_template("page.html.j2")
        latest = self.latest()
        footer = {
            "built": self.now.astimezone(self.tz).strftime("%Y-%m-%d %H:%M"),
            "latest": _local(latest, self.tz) if latest else None,
            "tz": str(self.tz),
            "version": __version__,
        }
        nav = {
            "teams": sorted(self.team_pages.items()),
            "repos": sorted(self.repo_pages.items()),
            "people": sorted(self.person_pages.items()),
        }
        return {
            page.path: template.render(page=page, nav=nav, footer=footer, filled=filled, count=count) for page in pages
        }


SITE_FOLDERS = ("teams", "repos", "people")
GENERATOR = b'<meta name="generator" content="teamops '  # in every page's head (page.html.j2)


def build(
    db: Reader, cfg: Config, out: Path, now: datetime, *, emails: bool = False, include_bots: bool = False
) -> list[Path]:
    """Write the site into `out` (made if missing). Pages of an earlier build that this one does not
    write (a person since excluded) are removed; nothing else in `out` is touched."""
    site = Site(db, cfg, now, emails=emails, include_bots=include_bots)
    html = site.render(site.pages())
    written = []
    for rel, text in html.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        try:  # a page is whole or absent: a reader (or Pages) never gets half of one
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
        written.append(path)
    for folder in SITE_FOLDERS:
        for stale in set((out / folder).glob("*.html")) - set(written):
            if _ours(stale):
                stale.unlink()
    return written


def _ours(path: Path) -> bool:
    """Whether a page was written by `report html` (its generator tag): nobody else's file is removed."""
    try:
        with path.open("rb") as f:
            return GENERATOR in f.read(2048)
    except OSError:
        return False


def _local(stamp: str, tz: ZoneInfo) -> str:
    from teamops.dates import parse_iso

    return parse_iso(stamp).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _tile(label: str, value: str, key: str, bands: dict[str, str | None]) -> dict[str, Any]:
    return {"label": label, "value": value, "band": bands.get(key), "key": key}
