"""A task that outlives the broker's visibility timeout is delivered twice:
the default time limits must stop every task before that."""

from django.conf import settings

from portal.celery import app


def test_time_limits_stay_below_the_visibility_timeout():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit < visibility


def test_every_late_acknowledged_task_stops_before_redelivery():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    app.loader.import_default_modules()
    checked = 0
    for name, task in app.tasks.items():
        if name.startswith("celery.") or not getattr(task, "acks_late", False):
            continue
        limit = task.time_limit or app.conf.task_time_limit
        assert limit and limit < visibility, name
        checked += 1
    assert checked >= 5  # the awards and results tasks at least


def test_the_long_import_is_acknowledged_on_receipt_and_bounded():
    from interchange.tasks import run_import_job

    assert run_import_job.acks_late is False
    assert run_import_job.soft_time_limit < run_import_job.time_limit
