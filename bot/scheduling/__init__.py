"""Reminders: the planned ledger, the schedule commands (windows, pause, archive) and the APScheduler service."""
