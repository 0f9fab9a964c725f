"""The download of a generated file and its progress partial: one view each
for every kind of file. Both ask the file's own rule (``permissions``); a
file the asker may not have answers exactly as an id that does not exist
(404), so ids cannot be probed."""

from __future__ import annotations

import uuid

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.authz import objectgetter, permission_required

from .models import GeneratedFile


def _private(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "private, no-store"
    return response


# ``files.download`` (files/permissions.py): the file's own rule; someone
# else's file answers 404, as a guessed id does.
guard = permission_required("files.download", fn=objectgetter(GeneratedFile, "file_id"), hide=True)


@guard
@never_cache
@require_GET
def download(request: HttpRequest, file_id: uuid.UUID) -> HttpResponseBase:
    generated = GeneratedFile.objects.get(pk=file_id)
    if not generated.downloadable():
        return _private(HttpResponse(_("This file has expired or is not ready."), status=410))
    try:
        fh = default_storage.open(generated.file.name, "rb")
    except OSError as exc:
        raise Http404 from exc
    name = generated.filename or generated.file.name.rsplit("/", 1)[-1]
    response = FileResponse(
        fh, as_attachment=True, filename=name, content_type=generated.content_type
    )
    return _private(response)


@guard
@never_cache
@require_GET
def status(request: HttpRequest, file_id: uuid.UUID) -> HttpResponseBase:
    """The progress partial (htmx polls it until the file is finished)."""
    generated = GeneratedFile.objects.get(pk=file_id)
    return _private(render(request, "files/_progress.html", progress_context(request, generated)))


def progress_context(request: HttpRequest, generated: GeneratedFile) -> dict:
    """What ``files/_progress.html`` needs; pages that include the partial
    pass the same. The download starts by itself when the page was opened
    right after the request (``?start=1``) or is being polled."""
    auto = bool(request.headers.get("HX-Request") or request.GET.get("start"))
    return {"generated": generated, "auto_download": auto and generated.downloadable()}
