"""Packing a finished certificate batch into zips: one of everything and one
per delegation (docs/awards.md)."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from teams.models import Delegation

from .batches import batch_ttl, refresh_batch_counts
from .models import (
    BatchDelegationZip,
    Certificate,
    CertificateBatch,
)
from .rendering import certificates_for_render


def _zip_name(cert: Certificate) -> str:
    safe = "".join(ch for ch in cert.athlete.name if ch not in '/\\:*?"<>|')
    return f"{cert.entry.skill.code}-{safe}-{cert.award_text}-{cert.serial}.pdf"


def finish_batch(batch_id: int) -> CertificateBatch:
    """Pack the batch: one zip of everything and one per delegation, stored
    with an expiry. Re-running replaces the zips."""
    with transaction.atomic():
        # The row lock makes a second packer (a redelivered message) wait and
        # then find the batch done, instead of packing the same files twice.
        batch = (
            CertificateBatch.objects.select_for_update().select_related("event").get(pk=batch_id)
        )
        if batch.status == CertificateBatch.Status.DONE:
            return batch
        _pack(batch)
    batch.refresh_from_db()
    return batch


def _pack(batch: CertificateBatch) -> None:
    ids = [i for c in batch.chunks.all() for i in c.certificate_ids]
    certs = (
        certificates_for_render(ids)
        .exclude(file="")
        .order_by("delegation__code", "entry__skill__code", "serial")
    )
    prefix = f"awards/batches/{batch.pk}"
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        everything = zipfile.ZipFile(tmpdir / "all.zip", "w", zipfile.ZIP_STORED)
        per_delegation: dict[int, tuple[zipfile.ZipFile, Path, list[int]]] = {}
        for cert in certs:
            try:
                with default_storage.open(cert.file.name, "rb") as fh:
                    pdf = fh.read()
            except OSError:
                continue
            name = _zip_name(cert)
            # PDFs are compressed already: storing is as small and much faster.
            everything.writestr(f"{cert.delegation.code}/{name}", pdf)
            if cert.delegation_id not in per_delegation:
                path = tmpdir / f"{cert.delegation_id}.zip"
                per_delegation[cert.delegation_id] = (
                    zipfile.ZipFile(path, "w", zipfile.ZIP_STORED),
                    path,
                    [0],
                )
            zf, _path, count = per_delegation[cert.delegation_id]
            zf.writestr(name, pdf)
            count[0] += 1
        everything.close()
        for old in batch.delegation_zips.all():
            default_storage.delete(old.file.name)
            old.delete()
        if batch.zip_file:
            default_storage.delete(batch.zip_file.name)
        with open(tmpdir / "all.zip", "rb") as fh:
            zip_name = default_storage.save(f"{prefix}/{batch.event.code}-certificates.zip", fh)
        codes = dict(Delegation.objects.filter(pk__in=per_delegation).values_list("pk", "code"))
        for delegation_id, (zf, path, count) in per_delegation.items():
            zf.close()
            with open(path, "rb") as fh:
                name = default_storage.save(
                    f"{prefix}/{batch.event.code}-{codes[delegation_id]}.zip", fh
                )
            BatchDelegationZip.objects.create(
                batch=batch, delegation_id=delegation_id, file=name, count=count[0]
            )
    now = timezone.now()
    refresh_batch_counts(batch.pk)
    CertificateBatch.objects.filter(pk=batch.pk).update(
        zip_file=zip_name,
        status=CertificateBatch.Status.DONE,
        finished_at=now,
        expires_at=now + batch_ttl(),
    )
