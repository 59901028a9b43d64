"""Who is on the team: people and their identities, the handles that name them, bots that are not people, and
suggestions that group one person's identities."""
