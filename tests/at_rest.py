"""What the database holds at rest, for tests that check nothing readable is stored."""

from __future__ import annotations

from pathlib import Path

from django.db import connection


def database_bytes() -> bytes:
    """Everything the database holds, as bytes: the files for SQLite, every row for PostgreSQL.

    On SQLite only committed rows reach the files: call it after the data is committed (a
    transactional test), or it proves nothing.
    """
    if connection.vendor == "sqlite":
        name = Path(str(connection.settings_dict["NAME"]))
        connection.close()  # flush what SQLite holds in memory for this connection
        return b"".join(p.read_bytes() for p in name.parent.glob(name.name + "*"))
    chunks = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the catalogue
            for row in cursor.fetchall():
                chunks.append(repr(row).encode())
    return b"".join(chunks)
