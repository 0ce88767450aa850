"""On PostgreSQL the database itself refuses overlapping bookings of one therapist.

The exclusion constraint needs btree_gist (for `therapist_id WITH =` in a GiST index); it is a
trusted extension since PostgreSQL 13, so the database owner may create it. SQLite has no
exclusion constraints: there the services' check under the therapist's row lock (SQLite
serialises writers) and the unique (therapist, start) constraint keep the promise.
"""

from django.db import migrations

CREATE = (
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE scheduling_booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist "
    "(therapist_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) "
    "WHERE (status <> 'cancelled')",
)
DROP = ("ALTER TABLE scheduling_booking DROP CONSTRAINT IF EXISTS booking_no_overlap",)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_bookings_and_availability")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
