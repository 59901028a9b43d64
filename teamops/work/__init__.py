"""The team's work: tasks with RACI roles, sprints, personal mastery, and tasks imported from a tracker's CSV."""
