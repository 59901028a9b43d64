"""Validate GraphQL documents against GitHub's public schema (tests/specs/github/schema.graphql)."""

from __future__ import annotations

from functools import cache
from typing import Any

import graphql

from tests.support.paths import TESTS

SCHEMA = TESTS / "specs" / "github" / "schema.graphql"


@cache
def github_schema() -> graphql.GraphQLSchema:
    # GitHub's SDL does not pass graphql-core's own SDL checks (see SOURCE.md); the schema itself is sound.
    return graphql.build_schema(SCHEMA.read_text(encoding="utf-8"), assume_valid_sdl=True)


def problems(query: str, variables: dict[str, Any] | None = None) -> list[str]:
    """Why GitHub would refuse this document (and these variables); empty when it is valid."""
    try:
        document = graphql.parse(query)
    except graphql.GraphQLError as exc:
        return [f"syntax: {exc.message}"]
    errors = [e.message for e in graphql.validate(github_schema(), document)]
    if errors or variables is None:
        return errors
    operation = graphql.get_operation_ast(document)
    if operation is None:
        return ["no single operation in the document"]
    coerced = graphql.execution.values.get_variable_values(
        github_schema(), operation.variable_definitions or [], variables
    )
    return [e.message for e in coerced] if isinstance(coerced, list) else []
