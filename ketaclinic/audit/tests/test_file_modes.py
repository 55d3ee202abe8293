"""The SQLite database, its WAL files and the audit checkpoints are readable by the server's
user only (0600), whatever the umask: they hold every patient's record."""

from __future__ import annotations

import os
import stat

import pytest
from django.db import connection

from ketaclinic.audit import backup, checkpoints

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="a SQLite database file")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@sqlite_only
def test_a_new_sqlite_database_is_created_owner_only(db, tmp_path, loose_umask):
    name = tmp_path / "clinic.sqlite3"
    with backup.temporary_alias(str(name)) as alias, backup.connections[alias].cursor() as cur:
        cur.execute("CREATE TABLE visit (id integer)")
        cur.execute("INSERT INTO visit VALUES (1)")
        assert mode(name) == 0o600
        assert mode(f"{name}-wal") == 0o600


@sqlite_only
def test_an_existing_world_readable_database_is_made_owner_only(db, tmp_path):
    name = tmp_path / "clinic.sqlite3"
    name.touch()
    name.chmod(0o644)
    with backup.temporary_alias(str(name)) as alias:
        backup.connections[alias].ensure_connection()
        assert mode(name) == 0o600


def test_the_checkpoint_file_is_created_owner_only(loose_umask):
    checkpoints.append_line("{}\n")
    assert mode(checkpoints.path()) == 0o600


def test_a_world_readable_checkpoint_file_is_made_owner_only():
    checkpoints.path().parent.mkdir(parents=True, exist_ok=True)
    checkpoints.path().touch(mode=0o644)
    checkpoints.path().chmod(0o644)
    checkpoints.append_line("{}\n")
    assert mode(checkpoints.path()) == 0o600
