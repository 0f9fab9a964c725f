"""Beat's schedule names tasks that exist, so expired files really get purged."""

from portal.celery import app


def test_every_scheduled_task_is_registered():
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    # One purge for every generated file (workbooks and certificate zips).
    assert {entry["task"] for entry in schedule.values()} == {"files.purge_expired"}
    for entry in schedule.values():
        assert entry["task"] in app.tasks
