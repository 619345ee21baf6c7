"""Test support shared by tests/ and bench/: the fake Slack Web API, the signed-request driver, policy factories
and questionnaire helpers."""
