"""Packing a finished certificate batch into zips: one of everything and one
per delegation (docs/awards.md)."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from files import services as file_services
from teams.models import Delegation

from .batches import ZIP, batch_ttl, refresh_batch_counts
from .models import (
    BatchDelegationZip,
    Certificate,
    CertificateBatch,
)
from .rendering import certificates_for_render
from .visibility import BATCH_RULE, DELEGATION_ZIP_RULE


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


def _write_zips(batch: CertificateBatch, tmpdir: Path) -> dict[int, tuple[Path, int]]:
    """Write ``all.zip`` and one zip per delegation into ``tmpdir``; returns
    delegation id → (its zip, how many certificates)."""
    ids = [i for c in batch.chunks.all() for i in c.certificate_ids]
    certs = (
        certificates_for_render(ids)
        .exclude(file="")
        .order_by("delegation__code", "entry__skill__code", "serial")
    )
    per_delegation: dict[int, tuple[zipfile.ZipFile, Path, list[int]]] = {}
    # PDFs are compressed already: storing is as small and much faster.
    with zipfile.ZipFile(tmpdir / "all.zip", "w", zipfile.ZIP_STORED) as everything:
        for cert in certs:
            try:
                with default_storage.open(cert.file.name, "rb") as fh:
                    pdf = fh.read()
            except OSError:
                continue
            name = _zip_name(cert)
            everything.writestr(f"{cert.delegation.code}/{name}", pdf)
            if cert.delegation_id not in per_delegation:
                path = tmpdir / f"{cert.delegation_id}.zip"
                zf = zipfile.ZipFile(path, "w", zipfile.ZIP_STORED)
                per_delegation[cert.delegation_id] = (zf, path, [0])
            zf, _path, count = per_delegation[cert.delegation_id]
            zf.writestr(name, pdf)
            count[0] += 1
    for zf, _path, _count in per_delegation.values():
        zf.close()
    return {d: (path, count[0]) for d, (_zf, path, count) in per_delegation.items()}


def _pack(batch: CertificateBatch) -> None:
    """Store the zips as generated files: the batch's archive (written into
    the row made with the batch, so a second packing replaces its file) and
    a new file per delegation, after deleting those of an earlier packing."""
    ttl = batch_ttl()
    code = batch.event.code
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        zips = _write_zips(batch, tmpdir)
        for old in batch.delegation_zips.select_related("generated"):
            file_services.delete(old.generated)  # the row goes by cascade
        archive_id = batch.archive_id
        if archive_id is None:  # packed again after its zip expired
            archive_id = file_services.create(
                "awards.batch", BATCH_RULE, ttl=ttl, content_type=ZIP
            ).pk
        file_services.store(
            archive_id,
            tmpdir / "all.zip",
            filename=f"{code}-certificates.zip",
            ttl=ttl,
            content_type=ZIP,
        )
        codes = dict(Delegation.objects.filter(pk__in=zips).values_list("pk", "code"))
        for delegation_id, (path, count) in zips.items():
            name = f"{code}-{codes[delegation_id]}.zip"
            generated = file_services.create(
                "awards.delegation_zip", DELEGATION_ZIP_RULE, ttl=ttl, content_type=ZIP
            )
            file_services.store(generated.pk, path, filename=name, ttl=ttl)
            BatchDelegationZip.objects.create(
                batch=batch, delegation_id=delegation_id, generated=generated, count=count
            )
    refresh_batch_counts(batch.pk)
    CertificateBatch.objects.filter(pk=batch.pk).update(
        archive_id=archive_id, status=CertificateBatch.Status.DONE, finished_at=timezone.now()
    )
