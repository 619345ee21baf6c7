"""Every action_id and callback_id the bot puts in Block Kit, named once: the blocks set them and the listeners
match them from here, so the two cannot drift apart."""

from __future__ import annotations

import re
from enum import StrEnum


class Action(StrEnum):
    """action_id of a button or select."""

    # the questionnaire
    CHOICE = "pp.choice"  # + ".<n>"
    SELECT = "pp.select"
    CHECK = "pp.check"
    SAVE = "pp.save"
    CHANNEL = "pp.channel"
    USER = "pp.user"
    USERS = "pp.users"
    RECOMMENDED = "pp.recommended"
    SUMMARY = "pp.summary"
    BACK = "pp.back"
    SKIP = "pp.skip"
    PAUSE = "pp.pause"
    REST = "pp.rest"
    EDIT = "pp.edit"
    FINISH = "pp.finish"
    RESUME = "pp.resume"
    START_OVER = "pp.startover"
    # published SOPs
    PUBLISH = "pp.publish"
    SECTION = "pp.section"  # + ".<n>" or ".all"
    SHARE = "pp.share"
    # reminders and check-ins
    CHECKIN_OK = "pp.checkin.ok"
    CHECKIN_FAIL = "pp.checkin.fail"
    REMINDER_SHOW = "pp.reminder.show"
    # policy reviews
    REVIEW_START = "pp.review.start"
    REVIEW_NO_CHANGE = "pp.review.nochange"
    # App Home
    HOME_NEW = "pp.home.new"
    HOME_RESUME = "pp.home.resume"
    HOME_SHOW = "pp.home.show"
    # out-of-band reviews
    OOB_STEP = "pp.oob"  # + ".<status>"
    OOB_MITIGATED = "pp.oob.mitigated"
    OOB_EXCEPTION = "pp.oob.exception"
    OOB_CLIENT = "pp.oob.client"  # the form's external select
    # device data
    DEVICE_EXCEPTION = "pp.device.exception"  # + ".<n>"
    # threat feeds
    FEED_OPEN = "pp.feed.open"
    FEED_DECLINE = "pp.feed.decline"
    FEED_DIGEST_OOB = "pp.feed.digestoob"

    def of(self, suffix: object) -> str:
        """The action_id of one of a family: Action.CHOICE.of(2) == 'pp.choice.2'."""
        return f"{self.value}.{suffix}"

    def family(self, suffixes: str) -> re.Pattern[str]:
        """A pattern matching this family's action_ids with one of the suffixes (a regex alternation)."""
        return re.compile(rf"^{re.escape(self.value)}\.({suffixes})$")


class Form(StrEnum):
    """callback_id of a modal."""

    NEW_POLICY = "pp_new_policy"
    OOB_OPEN = "pp_oob_open"
    OOB_MITIGATE = "pp_oob_mitigate"
    EXCEPTION = "pp_exception"
    CHECKIN_FAILURES = "pp_checkin_failures"
