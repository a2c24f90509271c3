"""An attachment: a file on an item of another app (``kind`` + ``object_id``), with its
own TLP marking, stored through Django's storage API (``STORAGES["attachments"]``)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.db import models
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _

from attachments.content import ALLOWED
from core.tlp import TLP, label


class _AttachmentStorage(LazyObject):
    """The storage named ``attachments``, looked up when first used and again after
    ``STORAGES`` changes (as Django's own ``default_storage`` is)."""

    def _setup(self):
        self._wrapped = storages["attachments"]


_storage = _AttachmentStorage()


@receiver(setting_changed)
def _storages_changed(*, setting, **kwargs):
    if setting == "STORAGES":
        _storage._wrapped = empty


def attachment_storage():
    """The storage named ``attachments`` (local disk under var/ by default; S3-compatible
    by configuration, see docs/interoperability.md)."""
    return _storage


def storage_name(instance, filename: str) -> str:
    """Where a file is stored: by kind and month, under a random name (the uploader's
    file name is kept in ``filename`` only, never used as a path)."""
    now = timezone.now()
    return f"{instance.kind}/{now:%Y/%m}/{uuid.uuid4().hex}"


class AttachmentKind(models.TextChoices):
    HOTLINE_MESSAGE = "hotline.message", _("Hotline message")
    SITUATION_UPDATE = "crisis.situation_update", _("Situation update")
    ASSISTANCE_REQUEST = "humanitarian.request", _("Request for assistance")


class Attachment(models.Model):
    kind = models.CharField(max_length=32, choices=AttachmentKind.choices)
    object_id = models.BigIntegerField(help_text="Id of the item it is attached to.")
    file = models.FileField(storage=attachment_storage, upload_to=storage_name, max_length=200)
    filename = models.CharField(max_length=200, help_text="The uploader's file name.")
    content_type = models.CharField(max_length=100, help_text="Detected from the content.")
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    tlp = models.CharField("TLP", max_length=12, choices=TLP.choices)
    # Kept for narrow markings only (AMBER+STRICT, RED): the item's recipients at upload.
    recipient_desks = models.ManyToManyField("directory.Desk", related_name="+", blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    desk = models.ForeignKey("directory.Desk", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "object_id", "id"]
        indexes = [models.Index(fields=["kind", "object_id"])]
        constraints = [
            models.CheckConstraint(condition=Q(tlp__in=TLP.values), name="attachment_tlp_known"),
            models.CheckConstraint(condition=Q(size_bytes__gt=0), name="attachment_not_empty"),
        ]

    def __str__(self):
        return f"{self.filename} on {self.kind} {self.object_id}"

    @property
    def tlp_label(self) -> str:
        return label(self.tlp)

    @property
    def type_name(self) -> str:
        return ALLOWED.get(self.content_type, self.content_type)
