"""Which deployments belong to a service of a monorepo (`[[services]]`), and to a team.

A deployment run by a workflow that names services belongs to those (a `Deploy api` workflow deploys the
api whatever its commit holds); any other belongs to each service it first shipped a change under the
paths of. A deployment belongs to a team when it shipped a commit of one of its people.
"""

from __future__ import annotations

import fnmatch
import re
from typing import TYPE_CHECKING

from teamops.store.deployments import Deployment, shipping_paths_of, shipping_work_of

if TYPE_CHECKING:
    from teamops.config.schema import ServiceConfig
    from teamops.store.reader import Reader


def names_service(service: ServiceConfig, file: str | None, name: str | None) -> bool:
    """Whether a workflow (its file, its name) deploys the service: one of its `workflows` globs, or, without
    any, the service's name as a word of either (case-insensitive)."""
    given = [text for text in (file, name) if text]
    if service.workflows:
        return any(fnmatch.fnmatchcase(text, glob) for text in given for glob in service.workflows)
    word = re.compile(rf"(?<![a-z0-9]){re.escape(service.name.lower())}(?![a-z0-9])")
    return any(word.search(text.lower()) for text in given)


def of_service(db: Reader, deps: list[Deployment], service: ServiceConfig, every: list[ServiceConfig]) -> set[int]:
    """The ids of the deployments that belong to the service (see the module's rule)."""
    named = {d.id: [s.name for s in every if names_service(s, d.workflow, d.workflow_name)] for d in deps}
    mine = {d.id for d in deps if service.name in named[d.id]}
    by_paths = [d.id for d in deps if not named[d.id]]
    return mine | shipping_paths_of(db, by_paths, service.paths)


def of_team(db: Reader, deps: list[Deployment], people: set[int]) -> set[int]:
    """The ids of the deployments that shipped a commit of one of these people."""
    return shipping_work_of(db, [d.id for d in deps], people)


def service_named(services: list[ServiceConfig], name: str) -> ServiceConfig:
    """The `[[services]]` entry `--service` names (case-insensitive); any other name is invalid input."""
    from teamops.errors import InvalidInput

    found = next((s for s in services if s.name.lower() == name.lower()), None)
    if found is None:
        known = ", ".join(s.name for s in services) or "none is configured"
        raise InvalidInput(f"no service {name!r} in [[services]]", f"services: {known}")
    return found
