"""Patch exceptions: the form, the approval rules and expiry reminders."""
