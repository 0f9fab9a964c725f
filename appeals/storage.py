"""Where appeal attachments are kept: outside MEDIA_ROOT, without a URL.

Attachments are a delegation's evidence against a result; only the people
who may see the appeal may read them, so they are never under a path a web
server publishes. ``url()`` refuses: every download goes through the
``appeals:attachment`` view, which checks the reader first.

Which storage: ``STORAGES["appeals"]`` when declared; else the default
storage when it is an object store (private objects, shared by every
machine); else the local directory ``settings.APPEALS_PRIVATE_ROOT``, by
default ``<MEDIA_ROOT>/../private/appeals`` — never under MEDIA_ROOT.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages


def private_root() -> Path:
    configured = getattr(settings, "APPEALS_PRIVATE_ROOT", None)
    if configured:
        return Path(configured)
    return Path(settings.MEDIA_ROOT).parent / "private" / "appeals"


class PrivateFileSystemStorage(FileSystemStorage):
    """A FileSystemStorage that reads its directory from the settings on each
    use (so tests can point it elsewhere) and has no public URL."""

    @property
    def base_location(self) -> str:
        return str(private_root())

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise NotImplementedError("Appeal attachments have no public URL; use appeals:attachment.")


_default = PrivateFileSystemStorage()


def attachment_storage() -> Storage:
    """The storage of ``AppealAttachment.file`` (a callable, so the choice
    stays out of the migrations)."""
    if "appeals" in settings.STORAGES:
        return storages["appeals"]
    default = storages["default"]
    if not isinstance(default, FileSystemStorage):
        # An object store (PORTAL_STORAGE=s3) is private and shared by all
        # machines; the local MEDIA_ROOT may be served publicly, so not that.
        return default
    return _default
