"""Syncs by source (git, GitHub, push events, ClickUp): fetch → normalise → save, page by page with its cursor."""
