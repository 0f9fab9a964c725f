"""PostgreSQL: ledger rows are append-only (docs/integrity.md).

A row trigger refuses UPDATE and DELETE on ``scoring_ledgerrecord``, with
two exceptions: the one UPDATE Django itself makes (a deleted mark nulls
``LedgerRecord.mark``, which is not part of the hash), and DELETE inside a
transaction that set ``portal.ledger_purge`` (``scoring.ledger.purge_skills``,
used when a programme's skills are removed). TRUNCATE is not a row event:
the test runner's flush and the load benchmark use it. Other databases
(SQLite in development) have no trigger; the ORM guard and the keyed chain
hold there.
"""

from __future__ import annotations

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION scoring_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('portal.ledger_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.mark_id IS NULL AND OLD.mark_id IS NOT NULL
       AND (to_jsonb(NEW) - 'mark_id') = (to_jsonb(OLD) - 'mark_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'scoring_ledgerrecord is append-only: % refused (skill %, record %)',
        TG_OP, OLD.skill_id, OLD.seq
        USING ERRCODE = 'integrity_constraint_violation';
END
$body$;
"""
TRIGGER = """
CREATE TRIGGER scoring_ledger_append_only
BEFORE UPDATE OR DELETE ON scoring_ledgerrecord
FOR EACH ROW EXECUTE FUNCTION scoring_ledger_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS scoring_ledger_append_only ON scoring_ledgerrecord;
DROP FUNCTION IF EXISTS scoring_ledger_append_only();
"""


def install(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # No parameters: the plpgsql text has "%" placeholders of its own.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(DROP)
        cursor.execute(FUNCTION)
        cursor.execute(TRIGGER)


def uninstall(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("scoring", "0002_rechain_ledger_with_key")]

    operations = [migrations.RunPython(install, uninstall)]
