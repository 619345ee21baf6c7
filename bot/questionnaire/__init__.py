"""The questionnaire: drafts, one question at a time, back / skip / edit, recommendations, the summary."""
