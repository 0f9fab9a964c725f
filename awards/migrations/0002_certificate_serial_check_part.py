"""Certificates issued before serials had a random check part get one.

Serials used to be consecutive (JS2026-2026-000123), so anyone could walk
them on the verification page. Each existing serial gets a random
Crockford-base32 part (JS2026-2026-000123-7KQ4M); the old serial no longer
answers (that is the point). Its stored PDF carries the old serial and QR
code, so it is deleted and the certificate marked as not drawn: the next
certificate batch draws it again with the new serial. Packed zips of earlier
batches hold the old PDFs: they expire now (beat deletes them).
docs/verification.md explains this for the organiser.
"""

import re
import secrets

from django.core.files.storage import default_storage
from django.db import migrations
from django.utils import timezone

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_LENGTH = 5
WITHOUT_CHECK = re.compile(r".+-\d{6}")
WITH_CHECK = re.compile(r"(.+-\d{6})-[0-9A-Z]{5}")


def add_check_parts(apps, schema_editor) -> None:
    Certificate = apps.get_model("awards", "Certificate")
    CertificateBatch = apps.get_model("awards", "CertificateBatch")
    taken = set(Certificate.objects.values_list("serial", flat=True))
    for cert in Certificate.objects.only("pk", "serial", "file").iterator():
        if not WITHOUT_CHECK.fullmatch(cert.serial):
            continue
        while True:
            serial = cert.serial + "-" + "".join(
                secrets.choice(CROCKFORD) for _ in range(CHECK_LENGTH)
            )
            if serial not in taken:
                break
        taken.add(serial)
        if cert.file:
            try:
                default_storage.delete(cert.file.name)
            except OSError:
                pass  # already gone: nothing stale left to hand out
        Certificate.objects.filter(pk=cert.pk).update(
            serial=serial, file="", fingerprint="", generated_at=None
        )
    if not any(f.name == "expires_at" for f in CertificateBatch._meta.get_fields()):
        # Run against models after 0004 (a test does): a batch's zips expire
        # with its generated file.
        GeneratedFile = apps.get_model("files", "GeneratedFile")
        GeneratedFile.objects.filter(
            kind__in=["awards.batch", "awards.delegation_zip"], expires_at__gt=timezone.now()
        ).update(expires_at=timezone.now())
        return
    CertificateBatch.objects.filter(expires_at__isnull=True).update(expires_at=timezone.now())
    CertificateBatch.objects.filter(expires_at__gt=timezone.now()).update(
        expires_at=timezone.now()
    )


def remove_check_parts(apps, schema_editor) -> None:
    Certificate = apps.get_model("awards", "Certificate")
    for cert in Certificate.objects.only("pk", "serial").iterator():
        match = WITH_CHECK.fullmatch(cert.serial)
        if match:
            Certificate.objects.filter(pk=cert.pk).update(
                serial=match.group(1), file="", fingerprint="", generated_at=None
            )


class Migration(migrations.Migration):
    dependencies = [("awards", "0001_initial")]

    operations = [migrations.RunPython(add_check_parts, remove_check_parts)]
