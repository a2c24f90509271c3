"""What national CERT desks share about a cyber crisis: STIX 2.1 objects under TLP.

Each :class:`CyberItem` is one STIX domain object (indicator, observed data, attack
pattern, sighting) as the STIX JSON it is exchanged as (``stix``: the object itself, and
``related``: the cyber-observable objects and identities it refers to), with its Traffic
Light Protocol marking (``core.tlp``). A RED item is for its named recipients only
(``recipients``, the sharing desk among them): no read, list or export shows it to anyone
else (``cyber.selectors``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.tlp import TLP
from crisis.models import Crisis
from directory.models import Desk


class ItemKind(models.TextChoices):
    INDICATOR = "indicator", _("Indicator")
    OBSERVED_DATA = "observed-data", _("Observed data")
    ATTACK_PATTERN = "attack-pattern", _("Attack pattern")
    SIGHTING = "sighting", _("Sighting")


class CyberItem(models.Model):
    crisis = models.ForeignKey(Crisis, on_delete=models.PROTECT, related_name="cyber_items")
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    stix_id = models.CharField(max_length=100, help_text="e.g. indicator--<uuid>")
    name = models.CharField(max_length=250, blank=True)
    tlp = models.CharField("TLP marking", max_length=16, choices=TLP.choices)
    recipients = models.ManyToManyField(
        Desk, blank=True, related_name="+", help_text="TLP:RED only: the desks it is for."
    )
    stix = models.JSONField(help_text='{"object": {...}, "related": [...]}')
    shared_by = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    imported = models.BooleanField(default=False, help_text="Came in a STIX bundle.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["crisis", "stix_id"], name="cyber_item_once_per_crisis"
            ),
            models.CheckConstraint(condition=Q(tlp__in=TLP.values), name="cyber_item_tlp_known"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.name or self.stix_id} ({self.tlp})"
