"""AI-assisted work: the marks assistants leave in a history, and finding them."""
