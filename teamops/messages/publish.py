"""Publishing a document to ClickUp Docs: one page per title in one doc, updated in place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from teamops.clients import clickup_client
from teamops.config import Config
from teamops.errors import ConfigError
from teamops.integrations.clickup_docs import ClickUpDocs
from teamops.messages.message import Message, data, link, rich
from teamops.store.docs import last_clickup_doc, page_of, save_published

if TYPE_CHECKING:
    from sqlite_utils import Database

    from teamops.integrations.clickup import ClickUpClient


@dataclass
class Published:
    """Where a document went, and the message that announces it."""

    action: str  # created or updated
    url: str
    message: Message


def check_publishing(cfg: Config) -> tuple[str, ClickUpClient]:
    """The workspace and a client, or exit 3 before anything is written (or a model is paid)."""
    cu = cfg.clickup
    workspace = cu.docs_workspace_id or cu.team_id
    if not workspace:
        raise ConfigError("--publish needs [clickup] docs_workspace_id (or team_id)", "see docs/clickup.md")
    return workspace, clickup_client(cfg, "publishing to ClickUp needs an API token")


def publish(db: Database, cfg: Config, row_id: int, title: str, content: str) -> Published:
    """Create or update the page for `title` in the team's doc (found, else created)."""
    cu = cfg.clickup
    workspace, client = check_publishing(cfg)
    docs = ClickUpDocs(client, workspace)
    try:
        known = last_clickup_doc(db)
        doc_id = known if known and docs.doc_exists(known) else None
        doc_id = doc_id or docs.find_doc(cu.docs_name, cu.docs_parent) or docs.create_doc(cu.docs_name, cu.docs_parent)
        page = page_of(db, title, doc_id)
        if page and docs.replace_page(doc_id, page, title, content):
            page_id, action = page, "updated"
        else:
            page_id, action = docs.create_page(doc_id, title, content), "created"
    finally:
        client.close()
    url = docs.url(doc_id, page_id)
    save_published(db, row_id, doc_id, page_id, url)
    message = Message(
        kind="doc_published",
        key=f"doc_published:{doc_id}:{page_id}:{row_id}",
        title=f"New: {title}",
        body=rich(link(title, url), f" is {action} in ", data(cu.docs_name), "."),
        fields={"doc": cu.docs_name},
        url=url,
    )
    return Published(action, url, message)
