"""Publish Markdown to ClickUp Docs (API v3): find or create the doc, create or replace the page."""

from __future__ import annotations

from typing import Any

from teamops.errors import ServiceError
from teamops.integrations.clickup import ClickUpClient


class ClickUpDocs:
    """The Docs of one workspace."""

    def __init__(self, client: ClickUpClient, workspace_id: str) -> None:
        self.client = client
        self.ws = workspace_id

    def _path(self, rest: str = "") -> str:
        return f"/v3/workspaces/{self.ws}/docs{rest}"

    def doc_exists(self, doc_id: str) -> bool:
        try:
            data = self.client.get(self._path(f"/{doc_id}"), what=f"doc {doc_id}")
        except ServiceError as exc:
            if "(404)" in exc.message:
                return False
            raise
        return bool(data) and not data.get("deleted") and not data.get("archived")

    def find_doc(self, name: str, parent: dict[str, str]) -> str | None:
        params: list[tuple[str, Any]] = [("deleted", "false"), ("archived", "false")]
        if parent:
            params += [("parent_id", parent["id"]), ("parent_type", parent["type"])]
        cursor = None
        while True:
            page = self.client.get(self._path(), params + ([("cursor", cursor)] if cursor else []), "docs search")
            for doc in (page or {}).get("docs", []):
                if doc.get("name") == name and not doc.get("deleted"):
                    return str(doc["id"])
            cursor = (page or {}).get("next_cursor")
            if not cursor:
                return None

    def create_doc(self, name: str, parent: dict[str, str]) -> str:
        body: dict[str, Any] = {"name": name, "create_page": False, "visibility": "PRIVATE"}
        if parent:
            body["parent"] = {"id": parent["id"], "type": int(parent["type"])}
        data = self.client.request("POST", self._path(), body=body, what=f"creating doc {name!r}")
        return str(data["id"])

    def create_page(self, doc_id: str, title: str, content: str) -> str:
        data = self.client.request(
            "POST",
            self._path(f"/{doc_id}/pages"),
            body={"name": title, "content": content, "content_format": "text/md"},
            what=f"creating page {title!r}",
        )
        return str(data["id"])

    def replace_page(self, doc_id: str, page_id: str, title: str, content: str) -> bool:
        """Replace a page's content; False when the page is gone (deleted upstream)."""
        try:
            self.client.request(
                "PUT",
                self._path(f"/{doc_id}/pages/{page_id}"),
                body={"name": title, "content": content, "content_edit_mode": "replace", "content_format": "text/md"},
                what=f"updating page {title!r}",
            )
        except ServiceError as exc:
            if "(404)" in exc.message:
                return False
            raise
        return True

    def url(self, doc_id: str, page_id: str) -> str:
        return f"https://app.clickup.com/{self.ws}/v/dc/{doc_id}/{page_id}"
