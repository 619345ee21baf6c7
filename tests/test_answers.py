"""Answer validation: every type, the cross-answer rules, and fuzzing for crashes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import HELP, parse_command
from bot.kernel.directory import LocalDirectory
from bot.kernel.questions import load_bank
from bot.policy.answers import AnswerContext, AnswerError, describe, parse_answer

BANK = load_bank()
ALL_GROUPS = {"scope.groups": ["Pilot", "Workstations", "Servers"], "approval.types": ["security", "drivers"]}
QUESTIONS = {q.id: q for q in BANK.expand(ALL_GROUPS)}


def answer(question_id: str, raw, answers: dict | None = None):
    return parse_answer(QUESTIONS[question_id], raw, AnswerContext(answers or {}, LocalDirectory()))


def rejects(question_id: str, raw, answers: dict | None = None) -> str:
    with pytest.raises(AnswerError) as err:
        answer(question_id, raw, answers)
    return str(err.value)


def test_time_zones_are_canonical_and_typos_get_a_suggestion():
    assert answer("client.timezone", "america/new_york") == "America/New_York"
    assert answer("client.timezone", "Australia/Sydney") == "Australia/Sydney"
    assert "Did you mean America/New_York?" in rejects("client.timezone", "America/New_Yrok")
    assert "Did you mean Europe/London?" in rejects("client.timezone", "London")
    assert "is not an IANA time zone" in rejects("client.timezone", "EST")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("48h", "48h"), ("2d", "48h"), ("14d", "14d"), ("2w", "14d"), ("1d 12h", "36h"), ("90 days", "90d")],
)
def test_durations_in_the_forms_people_type(typed, stored):
    assert answer("sla.low" if stored.endswith("d") and int(stored[:-1]) > 60 else "sla.high", typed) in {stored}


def test_durations_out_of_range_or_malformed_are_refused():
    assert rejects("deployment.forced_reboot", "4d") == "Type a duration from 1h to 72h."
    assert rejects("sla.high", "soon") == "Type a duration such as 48h, 14d or 2w."
    assert rejects("sla.high", "") == "Type a duration such as 48h, 14d or 2w."


def test_a_deadline_may_not_be_shorter_than_a_more_severe_one():
    assert "can't be shorter than the Critical deadline (7d)" in rejects("sla.high", "3d", {"sla.critical": "7d"})
    assert answer("sla.high", "7d", {"sla.critical": "7d"}) == "7d"
    assert "can't be longer than the Emergency" in rejects("oob.deploy_time", "72h", {"sla.emergency": "48h"})


def test_numbers_within_their_range_and_hipaa_raises_retention():
    assert answer("approval.delay_days", "0") == 0
    assert rejects("approval.delay_days", "31") == "Type a number from 0 to 30."
    assert rejects("approval.delay_days", "3.5") == "Type a whole number."
    hipaa = {"client.compliance": ["hipaa"]}
    assert rejects("audit.retention_months", "12", hipaa) == "Type a number from 72 to 120."
    assert answer("audit.retention_months", "12") == 12


def test_choices_by_label_value_or_number_and_multi_rules():
    assert answer("sla.source", "2") == "cvss"
    assert answer("sla.source", "CVSS plus CISA KEV listing") == "cvss_kev"
    assert answer("sla.source", "msp") == "msp_triage"
    assert "Pick one of" in rejects("sla.source", "astrology")
    assert answer("client.compliance", "4, 1") == ["cyber_essentials", "cis_ig1"]
    assert "can't be combined" in rejects("client.compliance", ["none", "pci_dss"])
    assert answer("failures.snapshot_servers", "Yes") is True
    assert rejects("failures.snapshot_servers", "maybe") == "Answer yes or no."


def test_lists_of_lines():
    assert answer("scope.apps", "Sage 50 - Finance\nChrome: MSP") == ["Sage 50 - Finance", "Chrome - MSP"]
    assert "Line 2 needs a name and who or why" in rejects("scope.apps", "Sage 50 - Finance\nChrome")
    assert answer("scope.internet_facing", "none") == []
    assert "listed twice" in rejects("scope.groups", "Pilot\npilot")
    assert answer("windows.pilot.blackouts", "2026-12-24..2026-12-26, 2027-01-01") == [
        "2026-12-24..2026-12-26",
        "2027-01-01",
    ]
    assert "a range runs from an earlier date" in rejects("windows.pilot.blackouts", "2026-12-26..2026-12-24")
    assert "is not a date" in rejects("windows.pilot.blackouts", "Christmas")


def test_window_rules_round_trip_and_explain_mistakes():
    stored = answer("windows.pilot.rule", "last fri 21:00 2h america/chicago")
    assert stored == {
        "anchor": "nth_weekday",
        "nth": -1,
        "weekday": 4,
        "start": "21:00",
        "length": "2h",
        "tz": "America/Chicago",
    }
    text = describe(QUESTIONS["windows.pilot.rule"], stored)
    assert text == "last Friday, 21:00 for 2h, America/Chicago"
    assert answer("windows.pilot.rule", text) == stored
    assert "Did you mean America/New_York?" in rejects("windows.pilot.rule", "PT 20:00 4h America/New_Yrok")
    assert rejects("windows.pilot.rule", "PT 20:00") == "Give the window's length, e.g. 'for 4h'."


def test_channels_and_people():
    assert answer("client.channel", "#Acme-Patching") == {"id": "#acme-patching", "name": "acme-patching"}
    assert "can't find the channel" in rejects("client.channel", "not a channel!")
    assert rejects("client.owner", "@ann @bob") == "Name just one person."


def test_every_recommended_answer_is_itself_valid():
    answers: dict = {}
    for question in BANK.visible(ALL_GROUPS | {"client.compliance": ["essential_eight"]}):
        raw = question.recommended
        if raw is None:
            continue
        answers[question.id] = parse_answer(question, raw, AnswerContext(answers, LocalDirectory()))
    assert answers["sla.emergency"] == "48h"
    assert len(answers) > 50


@settings(max_examples=300, deadline=None)
@given(question_id=st.sampled_from(sorted(QUESTIONS)), raw=st.text(max_size=300))
def test_no_typed_input_crashes_a_validator(question_id, raw):
    try:
        value = answer(question_id, raw)
    except AnswerError as err:
        assert str(err)
    else:
        assert describe(QUESTIONS[question_id], value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_the_command_parser_always_gives_a_command(text):
    command = parse_command(text)
    assert command.name in {usage.split()[0] for usage, _ in HELP}
    assert len(command.args) <= 200
