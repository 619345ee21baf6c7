"""Out-of-band reviews: triage and deploy deadlines, status steps, their reminders."""
