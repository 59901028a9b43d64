"""SQL views for browsing the database in Datasette; recreated by the shape step when they change."""

from __future__ import annotations


def iso_week(column: str) -> str:
    """SQL for the ISO week (`2026-W47`) of a UTC time: the week of its Thursday."""
    thursday = f"date({column}, '-3 days', 'weekday 4')"
    return f"strftime('%Y', {thursday}) || '-W' || printf('%02d', (strftime('%j', {thursday}) - 1) / 7 + 1)"


VIEWS: dict[str, str] = {
    # One estimate per commit: a model's over the heuristic's, then the newest.
    "commit_estimates": """
SELECT commit_id, model, prompt_version, points, hours, confidence, rationale
FROM (
    SELECT e.*, ROW_NUMBER() OVER (
        PARTITION BY e.commit_id ORDER BY (e.model = 'heuristic'), e.id DESC
    ) AS rank
    FROM estimates e
    WHERE e.status = 'ok'
)
WHERE rank = 1
""",
    "commit_authors": """
SELECT
    c.id AS commit_id,
    r.name AS repo,
    c.sha,
    c.authored_at,
    COALESCE(p.handle, c.author_name) AS author,
    p.handle AS person,
    c.author_email,
    c.additions,
    c.deletions,
    c.files_changed,
    c.is_merge,
    substr(c.message, 1, instr(c.message || char(10), char(10)) - 1) AS subject
FROM commits c
JOIN repos r ON r.id = c.repo_id
LEFT JOIN people p ON p.id = c.person_id
""",
    "activity_by_person": """
SELECT
    COALESCE(p.handle, '(unmapped) ' || c.author_email) AS person,
    p.team,
    COUNT(*) AS commits,
    SUM(c.additions) AS additions,
    SUM(c.deletions) AS deletions,
    COUNT(DISTINCT c.author_day) AS active_days,
    MIN(c.authored_at) AS first_commit,
    MAX(c.authored_at) AS last_commit
FROM commits c
LEFT JOIN people p ON p.id = c.person_id
WHERE c.is_merge = 0
GROUP BY COALESCE(p.handle, '(unmapped) ' || c.author_email)
""",
    # KPI views (done = a done_at time, which tasks carry only while in a done status).
    "kpi_velocity": """
SELECT s.name AS sprint, s.start_date, s.end_date, s.status,
    (SELECT SUM(st.committed_points) FROM sprint_tasks st WHERE st.sprint_id = s.id) AS committed,
    (SELECT COALESCE(SUM(t.points), 0) FROM tasks t WHERE t.sprint_id = s.id AND t.removed_at IS NULL
        AND t.done_at IS NOT NULL AND t.done_at < date(s.end_date, '+1 day')) AS completed
FROM sprints s
WHERE s.status != 'planned'
""",
    "kpi_cycle_times": """
SELECT t.id AS task_id, t.key, t.title, t.created_at, t.started_at, t.done_at,
    ROUND(julianday(t.done_at) - julianday(t.started_at), 3) AS cycle_days,
    ROUND(julianday(t.done_at) - julianday(t.created_at), 3) AS lead_days
FROM tasks t
WHERE t.done_at IS NOT NULL AND t.removed_at IS NULL
""",
    "kpi_weekly_completed": """
SELECT """
    + iso_week("t.done_at")
    + """ AS week,
    COALESCE(SUM(t.points), 0) AS completed_points, COUNT(*) AS tasks_done, SUM(t.points IS NULL) AS unpointed_done
FROM tasks t
WHERE t.done_at IS NOT NULL AND t.removed_at IS NULL
GROUP BY week
""",
    # Pull requests and their stages in hours (docs/kpi.md); inferred ones lack what needs the API.
    "pr_flow": """
SELECT r.name AS repo, p.number, p.title, COALESCE(pe.handle, p.author) AS author, p.state, p.draft,
    p.created_at, p.ready_at, p.first_review_at, p.approved_at, p.merged_at,
    ROUND((julianday(p.ready_at) - julianday(p.first_commit_at)) * 24, 1) AS coding_h,
    ROUND((julianday(p.first_review_at) - julianday(COALESCE(p.ready_at, p.created_at))) * 24, 1) AS pickup_h,
    ROUND((julianday(p.merged_at) - julianday(p.first_review_at)) * 24, 1) AS review_h,
    p.additions + p.deletions AS lines, p.changed_files, p.inferred
FROM pull_requests p
JOIN repos r ON r.id = p.repo_id
LEFT JOIN people pe ON pe.id = p.person_id
""",
}


def view_sql(name: str) -> str:
    """The exact statement a view is created with, as sqlite_master keeps it (compared to spot drift)."""
    return f"CREATE VIEW {name} AS {VIEWS[name].strip()}"
