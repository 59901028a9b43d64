"""The static site: pages and charts drawn from the reports (whose page model lives beside them, in reports/)."""
