"""An import job runs once, even if the broker delivers it twice."""

import pytest

from competitions.models import ImportJob
from interchange import jobs
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", [ImportJob.Status.RUNNING, ImportJob.Status.DONE])
def test_a_job_already_taken_is_not_run_again(status):
    job = ImportJob.objects.create(
        created_by=f.organiser(),
        event_code="E1",
        original_name="w.xlsx",
        stored_name="does-not-exist.xlsx",  # would fail loudly if opened
        status=status,
    )
    jobs.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == status
    assert job.finished_at is None
