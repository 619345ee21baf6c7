"""Storage: migrations match the models, SQLite is set up for concurrency, constraints hold."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from storage.db import MIGRATIONS, Database
from storage.models import Client, Draft

NOW = datetime(2026, 11, 26, 9, tzinfo=UTC)


@pytest.fixture
def db(db_url):
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


def test_migrations_produce_exactly_the_models_schema(db):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_migrating_twice_is_harmless_and_reaches_the_newest_revision(db):
    db.migrate()
    head = ScriptDirectory.from_config(_config()).get_current_head()
    with db.read() as session:
        assert session.exec(text("SELECT version_num FROM alembic_version")).one()[0] == head  # type: ignore[call-overload]


def _config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(db):
    if not db.is_sqlite:
        pytest.skip("SQLite pragmas; PostgreSQL has none")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    with db.write() as session:  # a write waits for the lock in BEGIN IMMEDIATE's loop, not in SQLite's handler
        pragma = session.connection().exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal" and pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA busy_timeout").scalar() == 0


def test_one_open_draft_per_client_and_keys_are_unique(db):
    with db.write() as session:
        client = Client(key="acme", name="Acme", created_by="U1", created_at=NOW)
        session.add(client)
        session.flush()
        session.add(Draft(client_id=client.id, owner_id="U1", created_at=NOW, updated_at=NOW))
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(Draft(client_id=client.id, owner_id="U2", created_at=NOW, updated_at=NOW))
    with db.write() as session:  # a finished draft does not block a new one
        session.add(Draft(client_id=client.id, owner_id="U2", status="complete", created_at=NOW, updated_at=NOW))
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(Client(key="acme", name="ACME", created_by="U2", created_at=NOW))


def test_datetimes_come_back_time_zone_aware(db):
    with db.write() as session:
        session.add(Client(key="globex", name="Globex", created_by="U1", created_at=NOW))
    with db.read() as session:
        stored = session.get(Client, 1)
    assert stored.created_at == NOW and stored.created_at.tzinfo is not None


def test_a_database_from_the_release_before_0007_keeps_its_posted_versions_posted(db_url):
    """Earlier releases recorded a post once all of it was out: those versions are not offered for posting again."""
    from alembic import command

    database = Database(db_url)
    config = _config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        connection.execute(
            text(
                "INSERT INTO client (id, key, name, created_by, created_at, kind) "
                "VALUES (1, 'acme', 'Acme', 'UTECH', '2026-11-01 09:00:00.000000', 'client')"
            )
        )
        for draft in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO draft (id, client_id, owner_id, status, mode, paused, seq, context, created_at, "
                    f"updated_at) VALUES ({draft}, 1, 'UTECH', 'published', 'asking', false, 1, '{{}}', "
                    "'2026-11-01 09:00:00.000000', '2026-11-01 09:00:00.000000')"
                )
            )
        for version, posted in ((1, "'2026-11-02 09:00:00.000000'"), (2, "NULL")):
            connection.execute(
                text(
                    "INSERT INTO policyversion (client_id, version, draft_id, answers, markdown, published_by, "
                    f"published_by_name, published_at, posted_at) VALUES (1, {version}, {version}, '{{}}', 'sop', "
                    f"'UTECH', 'Tess', '2026-11-02 09:00:00.000000', {posted})"
                )
            )
    database.migrate()
    from sqlmodel import select

    from storage.models import PolicyVersion

    with database.read() as session:
        rows = {v.version: v for v in session.exec(select(PolicyVersion)).all()}
    assert rows[1].fully_posted and rows[1].file_posted_at == rows[1].posted_at
    assert rows[2].posted_at is None and not rows[2].fully_posted
    database.dispose()


def test_the_integrity_check_names_a_damaged_page_that_migrations_never_read(tmp_path):
    path = tmp_path / "damaged.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    assert database.integrity() == "ok"
    with database.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE filler (id INTEGER PRIMARY KEY, text TEXT)")
        for n in range(400):
            connection.exec_driver_sql("INSERT INTO filler (text) VALUES (?)", (f"row {n} " + "x" * 300,))
    with database.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    size = path.stat().st_size
    with path.open("r+b") as file:  # a page in the middle of the table's leaves, as a bad disk block would
        file.seek(size - 8 * 4096)
        file.write(b"\x00\xff" * 2048)
    damaged = Database(f"sqlite:///{path}")
    assert damaged.integrity() != "ok"
    damaged.dispose()
