"""What teamops says to people: the message model, the outbox that sends each message once, end-of-day and
mastery reminders, review nudges, and documents published to ClickUp."""
