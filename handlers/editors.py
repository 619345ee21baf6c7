"""Who may change policies: PATCHPOLICY_EDITORS (users and user groups) and the workspace's admins and owners."""

from __future__ import annotations

from handlers.workspace import Workspace


def editor_ids(configured: str) -> tuple[str, ...]:
    """PATCHPOLICY_EDITORS as ids: users (U..., W...) and user groups (S...)."""
    return tuple(part.strip() for part in configured.split(",") if part.strip())


class Editors:
    """Answers 'is this user an editor?' from the workspace cache: never a Slack call, so it is safe before an ack."""

    def __init__(self, workspace: Workspace, ids: tuple[str, ...]) -> None:
        self.ids = ids  # editor_ids(PATCHPOLICY_EDITORS)
        self.workspace = workspace

    @property
    def everyone(self) -> bool:
        """No editors configured: everyone in the workspace may edit (the documented default)."""
        return not self.ids

    def is_editor(self, user_id: str) -> bool:
        if self.everyone or user_id in self.ids:
            return True
        person = self.workspace.person(user_id)
        if (person is not None and person.admin) or self.workspace.in_group(user_id):
            return True
        self.workspace.refresh_soon()  # a newly made admin or group member is known a few seconds later
        return False
