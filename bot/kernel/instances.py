"""Names for running processes ("host:pid:nonce"), and telling when one on this host has died, so what it held
(inbox claims, the scheduler lease) is taken over at once after a crash instead of when its claim runs out."""

from __future__ import annotations

import os
import socket
import uuid


def new_instance() -> str:
    """This process's name: unique even when a restarted container reuses the pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def dead_here(instance: str, me: str) -> bool:
    """True when `instance` ran on this host and is gone: its pid is free, or it is our pid under another name
    (a restart that got the same pid). A pid in use by another process may be a reuse: not known, so False."""
    host, _, rest = instance.partition(":")
    pid, _, _nonce = rest.partition(":")
    if instance == me or host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
