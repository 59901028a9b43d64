"""Reports built from the KPIs: what the CLI prints in every format and the site renders as pages."""
