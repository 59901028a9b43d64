"""The `clickup` tracker: tasks, sprints, points, hours, RACI fields and status history from ClickUp lists.

Its settings are the core's `[clickup]` section, which publishing documents to ClickUp Docs shares; its
client (`integrations/clickup.py`) serves both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from teamops.sources import Progress, TaskSync, register_tracker

if TYPE_CHECKING:
    import re
    from collections.abc import Callable

    from sqlite_utils import Database

    from teamops.config import Config


@register_tracker
class ClickUpTracker:
    """ClickUp's v2 API, page by page, each page stored with its place in the pass."""

    kind: ClassVar[str] = "clickup"
    label: ClassVar[str] = "ClickUp"
    settings: ClassVar[type | None] = None
    identity: ClassVar[str | None] = "clickup"
    person_field: ClassVar[str | None] = "clickup_id"  # `[[people]] clickup_id`, `people add --clickup-id`
    noreply: ClassVar[re.Pattern[str] | None] = None

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg

    @classmethod
    def configured(cls, cfg: Config) -> bool:
        cu = cfg.clickup
        return bool(cu.team_id or cu.list_ids or cu.sprint_folder_ids)

    @classmethod
    def checked(cls, cfg: Config) -> bool:
        return cls.configured(cfg) or bool(cfg.clickup.docs_workspace_id)  # `gen-doc --publish` writes there

    @classmethod
    def validate(cls, cfg: Config, fail: Callable[[str, str], Exception]) -> None:
        return None  # the core's [clickup] section is checked with the core's

    def sync_tasks(self, db: Database, full: bool, progress: Progress | None) -> TaskSync:
        from dataclasses import asdict

        from teamops.clients import clickup_client
        from teamops.sources.clickup.sync import sync_clickup
        from teamops.wording import count

        client = clickup_client(self.cfg)
        try:
            result = sync_clickup(db, self.cfg, client, full=full, progress=progress)
        finally:
            client.close()
        line = (
            f"synced ClickUp: {count(result.lists, 'list')}, {result.added} added, {result.changed} changed, "
            f"{result.closed} closed, {result.removed} removed in {result.seconds:.1f} s "
            f"({count(result.requests, 'request')}; time in status: {result.time_in_status})"
        )
        return TaskSync(line, result.notes, {"report": "sync-tasks", **asdict(result)})

    def check(self, offline: bool) -> str:
        """The token is set and (online) its user is in the configured workspace."""
        from teamops.clients import clickup_client
        from teamops.errors import ConfigError
        from teamops.wording import count

        client = clickup_client(self.cfg)
        try:
            if offline:
                return "token set; not contacted: --offline"
            names = client.workspaces()
        finally:
            client.close()
        wanted = self.cfg.clickup.team_id or self.cfg.clickup.docs_workspace_id
        if wanted and wanted not in names:
            raise ConfigError(
                f"the token's user is not in workspace {wanted}",
                f"its workspaces: {', '.join(f'{k} ({v})' for k, v in names.items()) or 'none'}",
            )
        if wanted:
            return f"answers; workspace {wanted} ({names[wanted]})"
        return f"answers ({count(len(names), 'workspace')})"
