"""Beat's schedule names tasks that exist, so expired files really get purged."""

from portal.celery import app


def test_every_scheduled_task_is_registered():
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert {entry["task"] for entry in schedule.values()} == {
        "awards.purge_expired_certificate_files",
        "results.purge_exports",
    }
    for entry in schedule.values():
        assert entry["task"] in app.tasks
