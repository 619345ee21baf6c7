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
