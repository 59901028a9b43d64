"""SQL views for browsing the database in Datasette; recreated by the shape step when they change."""

from __future__ import annotations

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
    COUNT(DISTINCT date(c.authored_at, c.author_tz_offset || ' minutes')) AS active_days,
    MIN(c.authored_at) AS first_commit,
    MAX(c.authored_at) AS last_commit
FROM commits c
LEFT JOIN people p ON p.id = c.person_id
WHERE c.is_merge = 0
GROUP BY COALESCE(p.handle, '(unmapped) ' || c.author_email)
""",
}
