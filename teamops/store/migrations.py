"""Named schema migrations, applied in order when the database is opened and recorded by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


Migration = Callable[["Database"], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    """Register a migration under its function name; the order of definition is the order applied."""
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def _search_index(db: Database, table: str, column: str) -> None:
    """External-content FTS5, declared as sqlite-utils' enable_fts writes it: `content="table"` is how
    Datasette finds a table's search. The rowid is the table's INTEGER PRIMARY KEY id."""
    db.execute(f'CREATE VIRTUAL TABLE "{table}_fts" USING FTS5 ("{column}", content="{table}")')


@migration
def m001_people_and_identities(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE people (
            id INTEGER PRIMARY KEY,
            handle TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT,
            timezone TEXT,
            team TEXT,
            is_lead INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            source TEXT NOT NULL DEFAULT 'cli',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE identities (
            id INTEGER PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('email', 'github', 'clickup', 'name')),
            value TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT 'cli',
            UNIQUE (kind, value)
        )
        """
    )
    db.execute("CREATE INDEX idx_identities_person ON identities(person_id)")


@migration
def m002_repos_commits_sync_state(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE repos (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('git', 'github')),
            path TEXT,
            github TEXT,
            default_branch TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE commits (
            id INTEGER PRIMARY KEY,
            repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
            sha TEXT NOT NULL,
            author_name TEXT,
            author_email TEXT,
            author_login TEXT,
            person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,
            authored_at TEXT NOT NULL,
            author_tz_offset INTEGER NOT NULL DEFAULT 0,
            committed_at TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            additions INTEGER,
            deletions INTEGER,
            files_changed INTEGER,
            is_merge INTEGER NOT NULL DEFAULT 0,
            parents TEXT NOT NULL DEFAULT '',
            co_authors TEXT,
            files TEXT,
            stats_missing INTEGER NOT NULL DEFAULT 0,
            UNIQUE (repo_id, sha)
        )
        """
    )
    db.execute("CREATE INDEX idx_commits_authored ON commits(authored_at)")
    db.execute("CREATE INDEX idx_commits_person_authored ON commits(person_id, authored_at)")
    db.execute("CREATE INDEX idx_commits_repo_authored ON commits(repo_id, authored_at)")
    db.execute(
        """
        CREATE TABLE sync_state (
            source TEXT PRIMARY KEY,
            status TEXT NOT NULL DEFAULT 'idle',
            head TEXT,
            target TEXT,
            cursor TEXT,
            etag TEXT,
            items INTEGER NOT NULL DEFAULT 0,
            requests_used INTEGER NOT NULL DEFAULT 0,
            rate_limit_remaining INTEGER,
            last_run_at TEXT,
            last_success_at TEXT,
            details TEXT
        )
        """
    )


@migration
def m003_commit_message_search(db: Database) -> None:
    # External-content FTS5. New rows are indexed in bulk by save_commits inside each batch's
    # transaction (about 3x faster than a per-row trigger); deletes and message edits stay exact
    # through triggers. (m016 declares it the way Datasette detects.)
    db.execute("CREATE VIRTUAL TABLE commits_fts USING fts5(message, content='commits', content_rowid='id')")
    db.execute(
        """
        CREATE TRIGGER commits_ad AFTER DELETE ON commits BEGIN
            INSERT INTO commits_fts (commits_fts, rowid, message)
            VALUES ('delete', old.id, old.message);
        END
        """
    )
    db.execute(
        """
        CREATE TRIGGER commits_au AFTER UPDATE OF message ON commits BEGIN
            INSERT INTO commits_fts (commits_fts, rowid, message)
            VALUES ('delete', old.id, old.message);
            INSERT INTO commits_fts (rowid, message) VALUES (new.id, new.message);
        END
        """
    )


@migration
def m004_estimates(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE estimates (
            id INTEGER PRIMARY KEY,
            commit_id INTEGER NOT NULL REFERENCES commits(id) ON DELETE CASCADE,
            repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
            sha TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt_version TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
            points INTEGER,
            hours REAL,
            confidence REAL,
            rationale TEXT,
            error TEXT,
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            UNIQUE (repo_id, sha, model, prompt_version)
        )
        """
    )
    db.execute("CREATE INDEX idx_estimates_commit ON estimates(commit_id, status)")
    db.execute("CREATE INDEX idx_estimates_model ON estimates(model, prompt_version, status)")


@migration
def m005_outbox(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            channel TEXT NOT NULL,
            payload TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TEXT NOT NULL,
            next_attempt_at TEXT,
            sent_at TEXT,
            UNIQUE (idempotency_key, channel)
        )
        """
    )
    db.execute("CREATE INDEX idx_outbox_status ON outbox(status, next_attempt_at)")


def _m006_sprints_and_tasks(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE sprints (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            start_date TEXT NOT NULL,
            end_date TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'active', 'closed')),
            started_at TEXT,
            closed_at TEXT,
            team TEXT,
            source TEXT NOT NULL DEFAULT 'local',
            external_id TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            status TEXT NOT NULL,
            points REAL,
            estimate_hours REAL,
            spent_hours REAL,
            sprint_id INTEGER REFERENCES sprints(id) ON DELETE SET NULL,
            due_date TEXT,
            url TEXT,
            source TEXT NOT NULL DEFAULT 'local',
            external_id TEXT,
            list_id TEXT,
            parent_key TEXT,
            team TEXT,
            blocked_reason TEXT,
            blocked_since TEXT,
            started_at TEXT,
            done_at TEXT,
            removed_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX idx_tasks_status ON tasks(status)")
    db.execute("CREATE INDEX idx_tasks_sprint ON tasks(sprint_id)")
    db.execute("CREATE INDEX idx_tasks_done ON tasks(done_at)")


def _m006_roles_events_escalations(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE task_roles (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('R', 'A', 'C', 'I')),
            person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,
            external_ref TEXT,
            UNIQUE (task_id, role, person_id, external_ref)
        )
        """
    )
    db.execute("CREATE INDEX idx_task_roles_person ON task_roles(person_id, role)")
    db.execute("CREATE INDEX idx_task_roles_task ON task_roles(task_id)")
    db.execute(
        """
        CREATE TABLE task_events (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            actor TEXT,
            field TEXT NOT NULL,
            old TEXT,
            new TEXT,
            source TEXT NOT NULL DEFAULT 'local'
        )
        """
    )
    db.execute("CREATE INDEX idx_task_events_task ON task_events(task_id, at)")
    db.execute("CREATE INDEX idx_task_events_field_at ON task_events(field, at)")
    db.execute(
        """
        CREATE TABLE sprint_tasks (
            sprint_id INTEGER NOT NULL REFERENCES sprints(id) ON DELETE CASCADE,
            task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            committed_points REAL,
            snapshot_at TEXT NOT NULL,
            estimated INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (sprint_id, task_id)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE escalations (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            episode TEXT NOT NULL,
            level INTEGER NOT NULL,
            hours REAL NOT NULL,
            queued_at TEXT NOT NULL,
            UNIQUE (task_id, episode, level)
        )
        """
    )


def _m006_task_search(db: Database) -> None:
    db.execute("CREATE VIRTUAL TABLE tasks_fts USING fts5(title, content='tasks', content_rowid='id')")
    db.execute(
        "CREATE TRIGGER tasks_ai AFTER INSERT ON tasks BEGIN "
        "INSERT INTO tasks_fts (rowid, title) VALUES (new.id, new.title); END"
    )
    db.execute(
        "CREATE TRIGGER tasks_ad AFTER DELETE ON tasks BEGIN "
        "INSERT INTO tasks_fts (tasks_fts, rowid, title) VALUES ('delete', old.id, old.title); END"
    )
    db.execute(
        "CREATE TRIGGER tasks_au AFTER UPDATE OF title ON tasks BEGIN "
        "INSERT INTO tasks_fts (tasks_fts, rowid, title) VALUES ('delete', old.id, old.title); "
        "INSERT INTO tasks_fts (rowid, title) VALUES (new.id, new.title); END"
    )


@migration
def m006_tasks_sprints_raci(db: Database) -> None:
    _m006_sprints_and_tasks(db)
    _m006_roles_events_escalations(db)
    _m006_task_search(db)


@migration
def m007_clickup(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE task_status_times (
            task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
            status TEXT NOT NULL,
            source_status TEXT NOT NULL,
            minutes INTEGER NOT NULL,
            since TEXT,
            is_current INTEGER NOT NULL DEFAULT 0,
            fetched_at TEXT NOT NULL,
            PRIMARY KEY (task_id, source_status)
        )
        """
    )
    db.execute("ALTER TABLE tasks ADD COLUMN sync_pass TEXT")
    db.execute("CREATE INDEX idx_tasks_list ON tasks(list_id, sync_pass)")
    db.execute(
        """
        CREATE TABLE clickup_users (
            id TEXT PRIMARY KEY,
            username TEXT,
            email TEXT,
            last_seen TEXT NOT NULL
        )
        """
    )


@migration
def m008_commit_day_and_estimate(db: Database) -> None:
    # Denormalised for the activity report on years of history: the author's local day, and the
    # estimate that counts (a model's over the heuristic's, then the newest), kept by analyze.
    db.execute("ALTER TABLE commits ADD COLUMN author_day TEXT")
    db.execute("ALTER TABLE commits ADD COLUMN ai_points REAL")
    db.execute("ALTER TABLE commits ADD COLUMN ai_hours REAL")
    db.execute("UPDATE commits SET author_day = date(authored_at, author_tz_offset || ' minutes')")
    db.execute(
        """
        UPDATE commits SET (ai_points, ai_hours) = (
            SELECT e.points, e.hours FROM estimates e WHERE e.commit_id = commits.id AND e.status = 'ok'
            ORDER BY (e.model = 'heuristic'), e.id DESC LIMIT 1
        )
        WHERE id IN (SELECT commit_id FROM estimates)
        """
    )
    # Covers the activity report: it never has to read messages or file lists.
    db.execute(
        "CREATE INDEX idx_commits_activity ON commits(person_id, author_email, is_merge, author_day, authored_at, "
        "additions, deletions, stats_missing, ai_points, ai_hours, author_name)"
    )


@migration
def m009_sprint_event_indexes(db: Database) -> None:
    # Burndowns find every task that was ever in a sprint through its sprint events.
    db.execute("CREATE INDEX idx_task_events_new ON task_events(field, new)")
    db.execute("CREATE INDEX idx_task_events_old ON task_events(field, old)")


@migration
def m010_mastery(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE mastery_items (
            id INTEGER PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            title TEXT NOT NULL,
            notes TEXT,
            due_date TEXT,
            every TEXT CHECK (every IN ('week', 'month')),
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dropped')),
            previous_id INTEGER REFERENCES mastery_items(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL,
            done_at TEXT,
            dropped_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX idx_mastery_person ON mastery_items(person_id, status, due_date)")


@migration
def m011_docs(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE docs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            range_since TEXT,
            range_until TEXT,
            repo TEXT,
            content TEXT NOT NULL,
            model TEXT NOT NULL,
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            clickup_doc_id TEXT,
            clickup_page_id TEXT,
            url TEXT,
            published_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX idx_docs_title ON docs(title, published_at)")


@migration
def m012_job_runs(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE job_runs (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES job_runs(id) ON DELETE CASCADE,
            job TEXT NOT NULL,
            step TEXT,
            position INTEGER,
            status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'findings', 'failed', 'interrupted', 'skipped')),
            exit_code INTEGER,
            error TEXT,
            pid INTEGER,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            seconds REAL
        )
        """
    )
    db.execute("CREATE INDEX idx_job_runs_job ON job_runs(job, started_at)")


@migration
def m013_activity_index_by_time(db: Database) -> None:
    # Within one person or author, commits in time order: the first and last commit become index
    # seeks instead of two comparisons on every commit of the activity aggregate.
    db.execute("DROP INDEX idx_commits_activity")
    db.execute(
        "CREATE INDEX idx_commits_activity ON commits(person_id, author_email, is_merge, authored_at, author_day, "
        "additions, deletions, stats_missing, ai_points, ai_hours, author_name)"
    )


@migration
def m014_sprint_start_event(db: Database) -> None:
    # The last task event before a sprint started: what came after is a scope change, even within
    # the same second as the start.
    db.execute("ALTER TABLE sprints ADD COLUMN start_event_id INTEGER")


@migration
def m015_outbox_claims(db: Database) -> None:
    # A sender claims a message before its POST (who, and until when: a lease in epoch seconds),
    # so overlapping senders never deliver it twice and a killed one's claims expire.
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_until REAL")


@migration
def m016_datasette_search_and_labels(db: Database) -> None:
    # Search declared so Datasette sees it (older files said content='commits', which it does not
    # detect): rebuilt from the content tables; the triggers on them stay.
    for table, column in (("commits", "message"), ("tasks", "title")):
        row = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", [f"{table}_fts"]).fetchone()
        if row and f'content="{table}"' not in row[0]:
            db.execute(f"DROP TABLE {table}_fts")
            _search_index(db, table, column)
            db.execute(f"INSERT INTO {table}_fts ({table}_fts) VALUES ('rebuild')")
    # Datasette labels a foreign key with the target's `name` or `title` column: a person without a
    # name shows their handle, a commit its subject line, a job run its job and step.
    db.execute("ALTER TABLE people RENAME COLUMN name TO given_name")
    db.execute("ALTER TABLE people ADD COLUMN name TEXT GENERATED ALWAYS AS (coalesce(given_name, handle)) VIRTUAL")
    db.execute(
        "ALTER TABLE commits ADD COLUMN title TEXT GENERATED ALWAYS AS "
        "(substr(message, 1, instr(message || char(10), char(10)) - 1)) VIRTUAL"
    )
    db.execute(
        "ALTER TABLE job_runs ADD COLUMN title TEXT GENERATED ALWAYS AS (job || coalesce(': ' || step, '')) VIRTUAL"
    )


@migration
def m017_deployments(db: Database) -> None:
    # Production deployments from release tags, pushed tags, `deploy record` (and later sources), and
    # the commits each one shipped first: lead times are read from here, never walked again.
    db.execute(
        """
        CREATE TABLE deployments (
            id INTEGER PRIMARY KEY,
            repo_id INTEGER NOT NULL REFERENCES repos(id),
            name TEXT NOT NULL,
            sha TEXT NOT NULL,
            environment TEXT NOT NULL,
            deployed_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('success', 'failure')),
            source TEXT NOT NULL,
            created_at TEXT NOT NULL,
            linked_sha TEXT,
            UNIQUE (repo_id, source, name)
        )
        """
    )
    db.execute("CREATE INDEX deployments_by_time ON deployments (environment, deployed_at)")
    db.execute("CREATE INDEX deployments_by_repo ON deployments (repo_id, deployed_at)")
    db.execute(
        """
        CREATE TABLE deployment_commits (
            deployment_id INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
            repo_id INTEGER NOT NULL REFERENCES repos(id),
            sha TEXT NOT NULL,
            PRIMARY KEY (repo_id, sha)
        ) WITHOUT ROWID
        """
    )
    # No index by deployment: one b-tree to insert into; reads by deployment scan it (about 10 ms a
    # 100,000 rows), and there are few.


@migration
def m018_search_kept_by_the_writers(db: Database) -> None:
    # Every connection distrusts the schema (trusted_schema = OFF), and SQLite lets no trigger write
    # an FTS5 table under it: the writers keep the search tables instead (store/tasks.py, and
    # store/commits.py, which always did for new commits). teamops never deletes a commit or a task,
    # nor rewrites a commit's message.
    for trigger in ("commits_ad", "commits_au", "tasks_ai", "tasks_ad", "tasks_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")


@migration
def m019_sources_as_kinds(db: Database) -> None:
    # A repository's source is a registered kind (no CHECK: a new kind needs no migration) found by
    # its `locator` (owner/name on GitHub, the clone's folder for git); `path` stays the local clone
    # of either, when there is one. A repository that discovery no longer lists, or that its source
    # refuses, is kept and marked: `missing_since` and why.
    for (view,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall():
        db.execute(f'DROP VIEW "{view}"')  # views are made again from their definitions on open
    db.execute("ALTER TABLE repos ADD COLUMN source_kind TEXT NOT NULL DEFAULT ''")
    db.execute("UPDATE repos SET source_kind = kind")
    db.execute("ALTER TABLE repos DROP COLUMN kind")
    db.execute("ALTER TABLE repos RENAME COLUMN source_kind TO kind")
    db.execute("ALTER TABLE repos RENAME COLUMN github TO locator")
    db.execute("UPDATE repos SET locator = path WHERE locator IS NULL")
    db.execute("ALTER TABLE repos ADD COLUMN missing_since TEXT")
    db.execute("ALTER TABLE repos ADD COLUMN missing_reason TEXT")


@migration
def m020_pull_requests(db: Database) -> None:
    # Pull requests, their reviews, review requests and head commits, from GitHub (GraphQL or webhook
    # payloads) or inferred from a clone's merge commits and squash subjects (`source` = 'git',
    # `inferred` = 1). The first review, first approval and first request are derived from the child
    # tables by store/pulls.py, so every source computes them the same way.
    db.execute(
        """
        CREATE TABLE pull_requests (
            id INTEGER PRIMARY KEY,
            repo_id INTEGER NOT NULL REFERENCES repos(id),
            number INTEGER NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            author TEXT,
            author_kind TEXT NOT NULL DEFAULT 'user',
            person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,
            state TEXT NOT NULL,
            draft INTEGER NOT NULL DEFAULT 0,
            base_branch TEXT,
            head_branch TEXT,
            head_repo TEXT,
            created_at TEXT,
            updated_at TEXT,
            ready_at TEXT,
            first_commit_at TEXT,
            first_review_requested_at TEXT,
            first_review_at TEXT,
            approved_at TEXT,
            merged_at TEXT,
            closed_at TEXT,
            additions INTEGER,
            deletions INTEGER,
            changed_files INTEGER,
            commits INTEGER,
            merge_commit_sha TEXT,
            labels TEXT,
            source TEXT NOT NULL,
            inferred INTEGER NOT NULL DEFAULT 0,
            UNIQUE (repo_id, number)
        )
        """
    )
    db.execute("CREATE INDEX pull_requests_by_merge ON pull_requests (merged_at)")
    db.execute("CREATE INDEX pull_requests_by_merge_commit ON pull_requests (repo_id, merge_commit_sha)")
    db.execute(
        """
        CREATE TABLE pr_reviews (
            id INTEGER PRIMARY KEY,
            repo_id INTEGER NOT NULL REFERENCES repos(id),
            number INTEGER NOT NULL,
            review_id TEXT NOT NULL,
            reviewer TEXT,
            reviewer_kind TEXT NOT NULL DEFAULT 'user',
            state TEXT NOT NULL,
            submitted_at TEXT,
            UNIQUE (repo_id, number, review_id)
        )
        """
    )
    db.execute("CREATE INDEX pr_reviews_by_time ON pr_reviews (submitted_at)")
    db.execute(
        """
        CREATE TABLE pr_review_requests (
            id INTEGER PRIMARY KEY,
            repo_id INTEGER NOT NULL REFERENCES repos(id),
            number INTEGER NOT NULL,
            reviewer TEXT NOT NULL,
            requested_at TEXT,
            pending INTEGER NOT NULL DEFAULT 1,
            UNIQUE (repo_id, number, reviewer)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE pr_commits (
            id INTEGER PRIMARY KEY,
            repo_id INTEGER NOT NULL REFERENCES repos(id),
            number INTEGER NOT NULL,
            sha TEXT NOT NULL,
            UNIQUE (repo_id, number, sha)
        )
        """
    )
    # Review nudges sent: one per pull request, reviewer and the reviewer's local day, written in the
    # same transaction as the message that carries it.
    db.execute(
        """
        CREATE TABLE review_nudges (
            id INTEGER PRIMARY KEY,
            repo_id INTEGER NOT NULL REFERENCES repos(id),
            number INTEGER NOT NULL,
            reviewer TEXT NOT NULL,
            day TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (repo_id, number, reviewer, day)
        )
        """
    )


@migration
def m021_task_description(db: Database) -> None:
    # A task's description, kept for imported tasks (Jira's, a spreadsheet's): with the title, the text
    # point suggestions learn from.
    db.execute("ALTER TABLE tasks ADD COLUMN description TEXT")


@migration
def m022_point_models(db: Database) -> None:
    # What point suggestions learned from a team's finished tasks: the method chosen by its error on
    # the newest quarter held out, and a digest of the tasks, so it is chosen again only when they change.
    db.execute(
        """
        CREATE TABLE point_models (
            id INTEGER PRIMARY KEY,
            method TEXT NOT NULL,
            k INTEGER NOT NULL DEFAULT 0,
            held_out_mae REAL,
            median_mae REAL,
            tasks INTEGER NOT NULL,
            digest TEXT NOT NULL,
            trained_at TEXT NOT NULL
        )
        """
    )


@migration
def m023_task_suggestions(db: Database) -> None:
    # Points a model suggested for a task, shown the team's most similar finished tasks: cached per
    # task, model, prompt version and the examples shown (new examples, a new answer), with its cost.
    db.execute(
        """
        CREATE TABLE task_suggestions (
            id INTEGER PRIMARY KEY,
            task_key TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt_version TEXT NOT NULL,
            examples TEXT NOT NULL,
            points REAL NOT NULL,
            rationale TEXT,
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            UNIQUE (task_key, model, prompt_version, examples)
        )
        """
    )


@migration
def m024_identity_kinds_open(db: Database) -> None:
    # An identity's kind is any kind a source registers (a new source brings its own, e.g. GitLab
    # usernames), so the CHECK that listed four goes: the table is copied whole into one without it.
    for (view,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall():
        db.execute(f'DROP VIEW "{view}"')  # views are made again from their definitions on open
    db.execute(
        """
        CREATE TABLE identities_open (
            id INTEGER PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT 'cli',
            UNIQUE (kind, value)
        )
        """
    )
    db.execute(
        "INSERT INTO identities_open (id, person_id, kind, value, source) "
        "SELECT id, person_id, kind, value, source FROM identities"
    )
    db.execute("DROP TABLE identities")
    db.execute("ALTER TABLE identities_open RENAME TO identities")
    db.execute("CREATE INDEX idx_identities_person ON identities(person_id)")


@migration
def m025_tracker_users(db: Database) -> None:
    # The users a task tracker names (ClickUp's first, Jira's and others' next) in one table keyed by the
    # tracker's kind: `people unmapped` lists them, whatever the tracker.
    db.execute(
        """
        CREATE TABLE tracker_users (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            username TEXT,
            email TEXT,
            last_seen TEXT,
            PRIMARY KEY (kind, id)
        )
        """
    )
    db.execute(
        "INSERT INTO tracker_users (kind, id, username, email, last_seen) "
        "SELECT 'clickup', id, username, email, last_seen FROM clickup_users"
    )
    db.execute("DROP TABLE clickup_users")


@migration
def m026_deployments_by_commit(db: Database) -> None:
    # A deploy run and the GitHub Deployment its job made are one deployment: found by commit, which a
    # repository with thousands of runs must not scan for.
    db.execute("CREATE INDEX deployments_by_commit ON deployments (repo_id, sha)")


@migration
def m027_incidents(db: Database) -> None:
    # Incidents as data: opened and resolved by hand (`teamops incident`), or read from a tracker; each names
    # its cause when it can (a commit, a pull request), which links it to the deployment that shipped it.
    db.execute(
        """
        CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            repo_id INTEGER REFERENCES repos(id),
            title TEXT NOT NULL,
            severity TEXT,
            opened_at TEXT NOT NULL,
            resolved_at TEXT,
            cause TEXT,
            source TEXT NOT NULL DEFAULT 'cli',
            external_id TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (source, external_id)
        )
        """
    )
    db.execute("CREATE INDEX incidents_by_time ON incidents (opened_at)")


@migration
def m028_deployment_workflows(db: Database) -> None:
    # The workflow a deployment ran in (its file and its name), so a monorepo's `Deploy api` workflow puts its
    # deployments in the api service; empty for every other source.
    db.execute("ALTER TABLE deployments ADD COLUMN workflow TEXT")
    db.execute("ALTER TABLE deployments ADD COLUMN workflow_name TEXT")


@migration
def m029_tasks_by_external_id(db: Database) -> None:
    # A tracker's issue is found by its id there (its key may change when it moves to another project): a
    # site of 20,000 issues must not scan for each.
    db.execute("CREATE INDEX tasks_by_external ON tasks (source, external_id)")


@migration
def m030_jira_exports_apart_from_jira(db: Database) -> None:
    # Tasks imported from a Jira export took the source 'jira' and keys 'jira:SHOP-1'; a live Jira site is
    # a tracker of that name now, whose whole passes mark its unseen tasks removed: the imports move aside.
    db.execute(
        "UPDATE task_events SET source = 'jira-csv' WHERE source = 'jira' "
        "AND task_id IN (SELECT id FROM tasks WHERE source = 'jira')"
    )
    db.execute(
        "UPDATE tasks SET source = 'jira-csv', key = 'jira-csv:' || substr(key, 6) "
        "WHERE source = 'jira' AND key LIKE 'jira:%'"
    )


@migration
def m031_task_search_with_descriptions(db: Database) -> None:
    # A task's description is searched with its title (Jira's, turned from its document format to plain
    # text, and an import's), in the shape Datasette detects; the writers keep it (store/tasks.py).
    db.execute("DROP TABLE IF EXISTS tasks_fts")
    db.execute('CREATE VIRTUAL TABLE "tasks_fts" USING FTS5 ("title", "description", content="tasks")')
    db.execute("INSERT INTO tasks_fts (tasks_fts) VALUES ('rebuild')")


@migration
def m032_assists(db: Database) -> None:
    # Which commits (sha) and pull requests (number) an AI assistant co-wrote, how that was recognised (a
    # trailer, the author, a footer, a label, a configured pattern) and the text that showed it.
    db.execute(
        """
        CREATE TABLE assists (
            repo_id INTEGER NOT NULL REFERENCES repos(id),
            sha TEXT NOT NULL DEFAULT '',
            number INTEGER NOT NULL DEFAULT 0,
            assistant TEXT NOT NULL,
            how TEXT NOT NULL,
            evidence TEXT NOT NULL,
            PRIMARY KEY (repo_id, sha, number, assistant, how)
        ) WITHOUT ROWID
        """
    )


@migration
def m033_assisted_commits(db: Database) -> None:
    # Whether an AI assistant co-wrote a commit (the assists table says which and how), beside the commit so
    # the activity report counts it from its covering index, not a join.
    db.execute("ALTER TABLE commits ADD COLUMN assisted INTEGER NOT NULL DEFAULT 0")
    db.execute("DROP INDEX idx_commits_activity")
    db.execute(
        "CREATE INDEX idx_commits_activity ON commits(person_id, author_email, is_merge, authored_at, author_day, "
        "additions, deletions, stats_missing, ai_points, ai_hours, author_name, assisted)"
    )
    db.execute(
        "UPDATE commits SET assisted = 1 WHERE EXISTS (SELECT 1 FROM assists a "
        "WHERE a.repo_id = commits.repo_id AND a.sha = commits.sha AND a.number = 0)"
    )


@migration
def m034_pull_request_marks(db: Database) -> None:
    # The marks an AI assistant left in a pull request's description ("Generated with Claude Code", a
    # co-author), found when it is synced: the description itself is not kept.
    db.execute("ALTER TABLE pull_requests ADD COLUMN body_marks TEXT")


@migration
def m035_assistant_usage(db: Database) -> None:
    # An AI assistant's own usage reports (GitHub Copilot's, per organisation): a day's totals, and each
    # account's day. `account_kind` is the identity kind of `login`, so people are found without naming it.
    counts = (
        "prompts INTEGER NOT NULL DEFAULT 0, generations INTEGER NOT NULL DEFAULT 0, "
        "acceptances INTEGER NOT NULL DEFAULT 0, lines_suggested INTEGER NOT NULL DEFAULT 0, "
        "lines_added INTEGER NOT NULL DEFAULT 0, lines_deleted INTEGER NOT NULL DEFAULT 0, "
        "agent_lines INTEGER NOT NULL DEFAULT 0"
    )
    db.execute(
        f"""
        CREATE TABLE assistant_days (
            assistant TEXT NOT NULL,
            scope TEXT NOT NULL,
            day TEXT NOT NULL,
            active_users INTEGER,
            weekly_active_users INTEGER,
            monthly_active_users INTEGER,
            {counts},
            prs_created INTEGER,
            prs_created_by_assistant INTEGER,
            prs_merged INTEGER,
            prs_merged_by_assistant INTEGER,
            prs_reviewed_by_assistant INTEGER,
            synced_at TEXT NOT NULL,
            PRIMARY KEY (assistant, scope, day)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        f"""
        CREATE TABLE assistant_users (
            assistant TEXT NOT NULL,
            scope TEXT NOT NULL,
            day TEXT NOT NULL,
            login TEXT NOT NULL,
            account_kind TEXT NOT NULL,
            {counts},
            used_agent INTEGER NOT NULL DEFAULT 0,
            used_chat INTEGER NOT NULL DEFAULT 0,
            used_cli INTEGER NOT NULL DEFAULT 0,
            synced_at TEXT NOT NULL,
            PRIMARY KEY (assistant, scope, day, login)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX idx_assistant_users_day ON assistant_users(day)")


@migration
def m036_inferred_pull_request_authors(db: Database) -> None:
    # A pull request inferred from a clone names no account: its author is the person who wrote its earliest
    # commit (sync-commits and people changes keep this up to date from here on).
    db.execute(
        """
        UPDATE pull_requests AS p SET person_id = (SELECT c.person_id FROM pr_commits pc CROSS JOIN commits c
            ON c.repo_id = pc.repo_id AND c.sha = pc.sha WHERE pc.repo_id = p.repo_id AND pc.number = p.number
            ORDER BY c.authored_at, c.id LIMIT 1)
        WHERE p.inferred = 1 AND p.author IS NULL
        """
    )
