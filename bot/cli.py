"""The command line over the core: console (terminal), migrate, check, import, render.

The Slack adapter's entry (`handlers.main`, the `patchpolicy` script) passes its `serve` in; without it
(`python -m bot`), `serve` says where Slack serving lives. Plain `patchpolicy` picks by the tokens.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from bot.kernel.config import Settings
from bot.scheduling.ledger import Poster
from storage.db import Database

Serve = Callable[[Settings, Database, bool], int]  # (settings, database, worker only)
Posting = Callable[[Settings], Poster]  # the Slack adapter's poster, for commands that post what is due


def main(argv: list[str] | None = None, serve: Serve | None = None, posting: Posting | None = None) -> int:
    parser = argparse.ArgumentParser(prog="patchpolicy", description="Patch management SOPs, written in Slack.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the Slack bot (Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT)")
    sub.add_parser("worker", help="run only the work of recorded Slack requests, and the scheduler")
    sub.add_parser("console", help="run the bot in this terminal, without Slack")
    sub.add_parser("migrate", help="apply database migrations and exit")
    check = sub.add_parser(
        "check", help="check a client's policy (or a policy file) against its frameworks; exit 1 on a breach"
    )
    check.add_argument("client", nargs="+", help="the client's name, or the path of a policy file")
    load = sub.add_parser("import", help="load a policy file (.yaml) into a draft on the local database")
    load.add_argument("file", help="the policy file")
    ingest = sub.add_parser("ingest", help="import an RMM export (CSV or JSON) of a client's devices and updates")
    ingest.add_argument("client", help="the client's name")
    ingest.add_argument("file", help="the export")
    ingest.add_argument("--columns", default="", help="the client's own mapping: device=Computer,update=KB,...")
    pull = sub.add_parser("pull", help="pull device data from the RMM APIs now (every client that is due, or one)")
    pull.add_argument("client", nargs="*", help="one client's name (pulled even if it is not due)")
    feeds = sub.add_parser("feeds", help="the threat feeds' last reads; `feeds refresh` reads every feed now")
    feeds.add_argument("action", nargs="?", choices=("refresh",), help="read now and act as the scheduled run does")
    render = sub.add_parser("render", help="print the SOP of a policy file; no database needed")
    render.add_argument("file", help="the policy file")
    render.add_argument("format", nargs="?", choices=("md", "html"), default="md")
    args = parser.parse_args(argv)
    if args.command == "render":
        return _render(args.file, args.format)
    if args.command == "check" and len(args.client) == 1 and args.client[0].endswith((".yaml", ".yml")):
        return _check_file(args.client[0])
    try:
        settings = Settings()
    except ValidationError as err:
        print(settings_problem(err), file=sys.stderr)
        return 2
    command = args.command or ("serve" if settings.has_slack else "console")
    level = settings.log_level.upper() if command != "console" else "WARNING"
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)
    db = _open(settings.database_url)
    if db is None:
        return 2
    if command == "migrate":
        print(f"Database is up to date: {_safe_url(settings.database_url)}")
        return 0
    if command == "console":
        return _console(settings, db)
    if command == "check":
        return _check(db, " ".join(args.client))
    if command == "import":
        return _import(settings, db, args.file)
    if command == "pull":
        return _pull(settings, db, " ".join(args.client))
    if command == "feeds":
        return _feeds(settings, db, args.action == "refresh", posting)
    if command == "ingest":
        return _ingest(settings, db, args.client, args.file, args.columns)
    if serve is None:
        print("Serving Slack is `patchpolicy serve` (or `python -m handlers serve`).", file=sys.stderr)
        return 2
    return serve(settings, db, command == "worker")


def settings_problem(err: ValidationError) -> str:
    """One line per wrong setting, named as it is set in the environment."""
    lines = []
    for problem in err.errors():
        name = str(problem["loc"][0]).upper() if problem["loc"] else "a setting"
        shown = "" if "TOKEN" in name or "SECRET" in name else f" (got {problem.get('input')!r})"
        lines.append(f"{name} is not valid: {problem['msg']}{shown}. Fix it in .env or the environment.")
    return "\n".join(lines)


def _open(url: str) -> Database | None:
    """The database, migrated and checked; None after one line saying what is wrong and what to do."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        db = Database(url)
        db.migrate()
        damage = db.integrity()
    except ArgumentError:
        print(f"DATABASE_URL is not a database URL ({_safe_url(url)}). See .env.example.", file=sys.stderr)
        return None
    except (SQLAlchemyError, OSError, ImportError) as err:
        print(f"Can't open the database at DATABASE_URL={_safe_url(url)}: {database_hint(err)}", file=sys.stderr)
        return None
    if damage != "ok":
        print(
            f"The database at {_safe_url(url)} is damaged ({damage}). Nothing was started: restore it from a "
            "backup (or try `sqlite3 FILE .recover`).",
            file=sys.stderr,
        )
        return None
    return db


def database_hint(err: BaseException) -> str:
    """What went wrong opening the database, and what to do about it, in one sentence."""
    reason = str(getattr(err, "orig", None) or err).splitlines()[0] if str(err) else type(err).__name__
    lowered = reason.lower()
    if "readonly" in lowered or "read-only" in lowered:
        return f"{reason}. The file or its folder is read-only; make it writable or point DATABASE_URL elsewhere."
    if "unable to open" in lowered:
        return f"{reason}. Check that the folder exists and is writable."
    if "not a database" in lowered or "malformed" in lowered:
        return f"{reason}. The file is damaged or not a PatchPolicy database; restore it from a backup."
    if "full" in lowered or "disk i/o" in lowered:
        return f"{reason}. The disk may be full (or failing): free some space and start again."
    if isinstance(err, ImportError):
        return f"{reason}. Install the database driver DATABASE_URL names."
    return f"{reason}. Check DATABASE_URL and that the database server is running."


def _console(settings: Settings, db: Database) -> int:
    from bot.console import Console

    core, actor = _console_core(settings, db)
    try:
        Console(core, actor).run(sys.stdin)
    except KeyboardInterrupt:
        print()
        return 130
    return 0


def _console_core(settings: Settings, db: Database):  # type: ignore[no-untyped-def]
    from bot.core import Core
    from bot.kernel.clock import SystemClock
    from bot.kernel.directory import LocalDirectory
    from bot.questionnaire.engine import Actor

    user = settings.console_user or os.environ.get("USER", "console")
    actor = Actor(id=user, name=user, timezone=os.environ.get("TZ") or None, editor=True)  # the local user
    from bot.feeds.watch import feed_urls
    from bot.patchdata.pulls import rmm_access
    from bot.reporting.sharing import share_access

    core = Core(
        db,
        SystemClock(),
        LocalDirectory(),
        rmm=rmm_access(settings),
        share=share_access(settings),
        feeds=feed_urls(settings),
    )
    return core, actor


def _read(path: str) -> str | None:
    """A policy file's text, read up to one byte past the limit (stdin, a pipe or an endless device too)."""
    from bot.policy.policy_file import MAX_BYTES

    try:
        with Path(path).open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except OSError as err:
        print(f"Can't read {path}: {err.strerror or err}", file=sys.stderr)
        return None
    if len(data) > MAX_BYTES:
        print(f"{path} is larger than {MAX_BYTES // 1024} KB; a policy file is much smaller.", file=sys.stderr)
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        print(f"{path} is not UTF-8 text; save it as UTF-8.", file=sys.stderr)
        return None


def _load_file(path: str):  # type: ignore[no-untyped-def]
    """The validated policy file, or None after printing each problem."""
    from bot.kernel.directory import LocalDirectory
    from bot.policy.policy_file import PolicyFileError, load

    text = _read(path)
    if text is None:
        return None
    try:
        return load(text, LocalDirectory())
    except PolicyFileError as err:
        print(f"{path} is not a valid policy file:", file=sys.stderr)
        for line in err.errors:
            print(f"  {path}: {line}", file=sys.stderr)
        return None


def _import(settings: Settings, db: Database, path: str) -> int:
    from bot.console import Console

    text = _read(path)
    if text is None:
        return 2
    core, actor = _console_core(settings, db)
    outcome = core.standards.import_file(actor, text, {})
    Console(core, actor).show(outcome)
    failed = any(getattr(reply, "tone", "") == "error" for reply in outcome.replies)
    return 1 if failed else 0


def _ingest(settings: Settings, db: Database, client: str, path: str, columns: str) -> int:
    """Import an export; exit 1 when nothing was stored (the reasons are printed), 2 when the file is missing."""
    file = Path(path)
    if not file.is_file():
        print(f"There is no file at {path}.", file=sys.stderr)
        return 2
    core, actor = _console_core(settings, db)
    result = core.device_data.import_file(client, file, actor.id, columns)
    print(result.text(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def _pull(settings: Settings, db: Database, client: str) -> int:
    """Pull now; exit 1 when a pull failed or stored nothing (the reason is printed)."""
    core, _actor = _console_core(settings, db)
    results = core.device_data.pull(client)
    for result in results:
        print(result.text(), file=sys.stdout if result.ok else sys.stderr)
    if not results:
        print("No client is due a pull (a client needs data.rmm, data.rmm_org and the RMM's credentials).")
    return 0 if all(r.ok for r in results) else 1


def _feeds(settings: Settings, db: Database, refresh: bool, posting: Posting | None) -> int:
    """The feeds' last reads; with `refresh`, read every feed now (exit 1 when one failed) and, when Slack is
    configured, post what that made due (reviews' checklists, digests, questions) through the ledger."""
    from bot.console import render_table
    from bot.feeds.status import feeds_table
    from bot.feeds.watch import NAMES

    core, _actor = _console_core(settings, db)
    if not refresh:
        print(render_table(feeds_table(core.feeds)))
        return 0
    runs = core.feeds.refresh(force=True)
    for run in runs:
        print(f"{NAMES[run.feed]}: {run.text}", file=sys.stdout if run.ok else sys.stderr)
    if posting is not None and settings.has_slack:
        report = core.reminders.dispatch(posting(settings))
        print(f"Slack: {report.sent} posted, {report.skipped} skipped, {report.failed} to try again.")
    else:
        print("Slack is not configured: reviews opened are in `oob list`; their posts wait for the Slack bot.")
    return 0 if all(run.ok for run in runs) else 1


def _render(path: str, format_name: str) -> int:
    from bot.kernel.clock import SystemClock
    from bot.policy.compliance import summary_lines
    from bot.policy.model import Policy
    from bot.sop.document import DocumentMeta, render_sop, to_html, to_markdown

    loaded = _load_file(path)
    if loaded is None:
        return 1
    answers = loaded.answers if loaded.kind == "client" else {**loaded.answers, "client.name": loaded.name}
    policy, now = Policy(answers), SystemClock().now()
    document = render_sop(policy, DocumentMeta(None, None, compliance=summary_lines(policy, now)), now, "md")
    sys.stdout.write(to_html(document) if format_name == "html" else to_markdown(document))
    return 0


def _check_file(path: str) -> int:
    from bot.kernel.clock import SystemClock
    from bot.policy.compliance import check
    from bot.policy.model import Policy

    loaded = _load_file(path)
    if loaded is None:
        return 2
    policy = Policy(loaded.answers)
    verdicts = check(policy, SystemClock().now())
    print(f"{loaded.name} ({path}): compliance check")
    if not policy.frameworks:
        print(f"{loaded.name}'s policy names no framework to check against.")
    for verdict in verdicts:
        for line in verdict.lines():
            print(f"- {line}")
    return 0 if all(v.passed for v in verdicts if v.binding) else 1


def _check(db: Database, client: str) -> int:
    from bot.core import Core
    from bot.kernel.clock import SystemClock
    from bot.kernel.directory import LocalDirectory
    from bot.kernel.views import Notice

    result = Core(db, SystemClock(), LocalDirectory()).reader.check(client)
    if isinstance(result, Notice):
        print(result.text, file=sys.stderr)
        return 2
    print(result.title)
    for framework, verdict in result.rows:
        head, _, gaps = verdict.partition(": ")
        print(f"- {head.capitalize()}: {framework}" + (f": {gaps}" if gaps else "."))
    print(result.footer or "")
    return 0 if not any(verdict.startswith("breach") for _, verdict in result.rows) else 1


def _safe_url(url: str) -> str:
    """The database URL without its password, for messages and logs."""
    import re

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL at all: still never show what could be a password
        return re.sub(r"//[^/@]*@", "//***@", url)


if __name__ == "__main__":
    raise SystemExit(main())
