"""The batches' zips become files.GeneratedFile rows (docs/exports.md):
storage, expiry, progress and the download rule live there. Existing zips
are carried over as they are (same stored files, same expiry)."""

import datetime as dt
import uuid

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

ZIP = "application/zip"
STATUS = {"pending": "pending", "rendering": "running", "zipping": "running"}


def carry_over(apps, schema_editor):
    GeneratedFile = apps.get_model("files", "GeneratedFile")
    CertificateBatch = apps.get_model("awards", "CertificateBatch")
    BatchDelegationZip = apps.get_model("awards", "BatchDelegationZip")
    now = timezone.now()
    for batch in CertificateBatch.objects.select_related("event"):
        expires = batch.expires_at or now + dt.timedelta(days=7)
        if batch.status == "done" and not batch.zip_file:
            continue  # its zips were purged already
        done = batch.status == "done"
        batch.archive = GeneratedFile.objects.create(
            id=uuid.uuid4(),
            kind="awards.batch",
            permission="awards.batch_archive",
            owner_id=batch.created_by_id,
            status="done" if done else STATUS.get(batch.status, "failed"),
            progress=100 if done else 0,
            done=batch.done,
            total=batch.total,
            file=batch.zip_file.name if batch.zip_file else "",
            filename=f"{batch.event.code}-certificates.zip",
            content_type=ZIP,
            created_at=batch.created_at,
            finished_at=batch.finished_at,
            expires_at=expires,
        )
        batch.save(update_fields=["archive"])
    for z in BatchDelegationZip.objects.select_related("batch__event", "delegation"):
        z.generated = GeneratedFile.objects.create(
            id=uuid.uuid4(),
            kind="awards.delegation_zip",
            permission="awards.delegation_zip",
            status="done",
            progress=100,
            file=z.file.name,
            filename=f"{z.batch.event.code}-{z.delegation.code}.zip",
            content_type=ZIP,
            created_at=z.batch.created_at,
            finished_at=z.batch.finished_at,
            expires_at=z.batch.expires_at or now + dt.timedelta(days=7),
        )
        z.save(update_fields=["generated"])


class Migration(migrations.Migration):
    dependencies = [
        ("awards", "0003_titles_policy"),
        ("files", "0001_generated_file"),
    ]

    operations = [
        migrations.AddField(
            model_name="batchdelegationzip",
            name="generated",
            field=models.OneToOneField(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="delegation_zip",
                to="files.generatedfile",
            ),
        ),
        migrations.AddField(
            model_name="certificatebatch",
            name="archive",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="certificate_batch",
                to="files.generatedfile",
                verbose_name="zip",
            ),
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="batchdelegationzip",
            name="generated",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="delegation_zip",
                to="files.generatedfile",
            ),
        ),
        migrations.RemoveField(model_name="batchdelegationzip", name="file"),
        migrations.RemoveField(model_name="certificatebatch", name="expires_at"),
        migrations.RemoveField(model_name="certificatebatch", name="zip_file"),
    ]
