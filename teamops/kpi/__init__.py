"""Team KPIs computed from the database; each report is a function returning rows."""
