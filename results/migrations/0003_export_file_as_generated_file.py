"""An export job's file becomes a files.GeneratedFile row (docs/exports.md):
status, progress, storage, expiry and the download rule live there. Existing
jobs are carried over as they are (same stored files, same expiry)."""

import uuid

import django.db.models.deletion
from django.db import migrations, models

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def carry_over(apps, schema_editor):
    GeneratedFile = apps.get_model("files", "GeneratedFile")
    ExportJob = apps.get_model("results", "ExportJob")
    for job in ExportJob.objects.all():
        done = job.status == "done"
        name = job.file.name if job.file else ""
        job.generated = GeneratedFile.objects.create(
            id=uuid.uuid4(),
            kind=f"results.{job.kind}",
            permission="results.export",
            owner_id=job.requested_by_id,
            status=job.status,
            progress=100 if done else (100 * job.progress // job.total if job.total else 0),
            done=job.progress,
            total=job.total,
            file=name,
            filename=name.rsplit("/", 1)[-1].split("-", 1)[-1],
            content_type=XLSX,
            error=job.error,
            created_at=job.created_at,
            finished_at=job.finished_at,
            expires_at=job.expires_at,
        )
        job.save(update_fields=["generated"])


class Migration(migrations.Migration):
    dependencies = [
        ("files", "0001_generated_file"),
        ("results", "0002_marking_progress"),
    ]

    operations = [
        migrations.AddField(
            model_name="exportjob",
            name="generated",
            field=models.OneToOneField(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="export_job",
                to="files.generatedfile",
                verbose_name="file",
            ),
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="exportjob",
            name="generated",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="export_job",
                to="files.generatedfile",
                verbose_name="file",
            ),
        ),
        migrations.RemoveIndex(model_name="exportjob", name="export_job_expires"),
        migrations.RemoveField(model_name="exportjob", name="error"),
        migrations.RemoveField(model_name="exportjob", name="expires_at"),
        migrations.RemoveField(model_name="exportjob", name="file"),
        migrations.RemoveField(model_name="exportjob", name="finished_at"),
        migrations.RemoveField(model_name="exportjob", name="progress"),
        migrations.RemoveField(model_name="exportjob", name="status"),
        migrations.RemoveField(model_name="exportjob", name="total"),
    ]
