"""PatchPolicy core: questionnaire, policy model, rendering and wiring. No Slack imports here."""
