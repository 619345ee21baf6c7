"""What every Slack listener module is given besides the app and the core."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.after_ack import AfterAck
from handlers.editors import Editors
from handlers.modals import ModalLane
from handlers.workspace import Workspace


@dataclass(frozen=True)
class SlackKit:
    """The Slack-side services, built once by the app: who may edit, the people cache, work after the ack,
    and the lane that opens modals."""

    editors: Editors
    workspace: Workspace
    later: AfterAck
    modals: ModalLane
