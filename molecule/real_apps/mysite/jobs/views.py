"""A job queue of files in the shared directory var/queue, and uploads into media."""

import re
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse, JsonResponse

from .version import VERSION


def version(request):
    return HttpResponse(VERSION, content_type="text/plain")


def enqueue(request):
    job = uuid.uuid4().hex
    queue = Path(settings.QUEUE_DIR)
    queue.mkdir(parents=True, exist_ok=True)
    staging = queue / f"{job}.tmp"
    staging.write_text(request.GET.get("text", ""))
    staging.rename(queue / f"{job}.job")
    return JsonResponse({"job": job, "enqueued_by": VERSION})


def done(request, job):
    path = Path(settings.DONE_DIR) / job
    if not re.fullmatch(r"[0-9a-f]{32}", job) or not path.is_file():
        raise Http404("not done yet")
    return HttpResponse(path.read_text(), content_type="text/plain")


def upload(request):
    name = request.GET.get("name", "")
    if not re.fullmatch(r"[a-z0-9-]+\.txt", name):
        raise Http404("name must look like note-1.txt")
    saved = default_storage.save(name, ContentFile(request.GET.get("text", "").encode()))
    return JsonResponse({"url": settings.MEDIA_URL + saved})
