"""How big a change or a task is: the offline heuristic, a model's estimate, and points suggested from history."""
