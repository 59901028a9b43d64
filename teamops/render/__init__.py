"""Rendering reports: the shared page model, and the static site's HTML and charts."""
