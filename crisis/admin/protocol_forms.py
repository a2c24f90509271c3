"""Forms of the protocol authoring pages: timeouts shown and typed in minutes, levels with
checkboxes, ordered inlines whose errors say what to fix (rules from
``crisis.services.protocol_rules``)."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crisis.models import ChecklistItem, EscalationLevel, NotifyScope
from crisis.services import protocol_rules as rules
from crisis.services.level_actions import available_actions
from directory.models import AgencyType, Desk

# --- timeouts in minutes ------------------------------------------------------------------
_DURATION = re.compile(
    r"^\s*(?:(\d+)\s*h(?:ours?)?)?\s*(?:(\d+)\s*m(?:in(?:utes?)?)?)?\s*(?:(\d+)\s*s(?:ec)?)?\s*$",
    re.I,
)


def format_timeout(seconds: int | None) -> str:
    """A duration as people read it: "15 min" (seconds only when not whole minutes)."""
    if not seconds:
        return ""
    minutes, rest = divmod(int(seconds), 60)
    if not rest:
        return f"{minutes} min"
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


class TimeoutField(forms.CharField):
    """A duration typed in minutes: ``15`` (minutes), ``15 min``, ``1h 30m``; seconds
    only when asked for (``90s``). Cleans to seconds, which the model keeps."""

    default_error_messages = {
        "invalid": "Write the timeout in minutes, e.g. 15, 15 min or 1h 30m (or seconds: 90s).",
        "not_positive": (
            "The timeout must be positive: how long this level has to acknowledge before "
            "the next level is told (e.g. 15m or 900s)."
        ),
    }

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        text = value.strip()
        if re.fullmatch(r"-\s*\d+.*", text):
            raise ValidationError(self.error_messages["not_positive"], code="not_positive")
        if text.isdigit():  # a bare number is minutes
            total = int(text) * 60
        else:
            match = _DURATION.match(text)
            if not match or not any(match.groups()):
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            hours, minutes, seconds = (int(g or 0) for g in match.groups())
            total = hours * 3600 + minutes * 60 + seconds
        if total <= 0:
            raise ValidationError(self.error_messages["not_positive"], code="not_positive")
        if total > rules.MAX_TIMEOUT_SECONDS:
            raise ValidationError(_("The timeout must be at most 30 days."), code="too_long")
        return total


def _checkboxes(choices):
    return forms.MultipleChoiceField(
        choices=choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class DeskCodeChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.code


class LevelForm(forms.ModelForm):
    timeout = TimeoutField(
        label="Timeout (min)",
        help_text="Minutes, e.g. 15 (or 1h 30m; seconds as 90s)",
        widget=forms.TextInput(attrs={"size": 7}),
    )
    notify_scopes = _checkboxes(NotifyScope.choices)
    notify_roles = _checkboxes([(r, r) for r in rules.NOTIFIABLE_ROLES])
    notify_desks = DeskCodeChoiceField(
        queryset=Desk.objects.filter(is_active=True).order_by("code"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text="Specific desks, in addition to the scopes.",
    )
    notify_agency_types = forms.MultipleChoiceField(
        choices=AgencyType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Only desks of these agency types",
        help_text="Narrows the member states' desks the scopes reach (empty: every desk).",
    )
    # Only what an installed app carries out (a callable: handlers register at start-up).
    actions = _checkboxes(available_actions)

    class Meta:
        model = EscalationLevel
        fields = (
            "order",
            "name",
            "timeout",
            "notify_scopes",
            "notify_roles",
            "notify_desks",
            "notify_agency_types",
            "actions",
        )
        widgets = {
            "order": forms.NumberInput(attrs={"style": "width: 4em"}),
            "name": forms.TextInput(attrs={"size": 24}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["timeout"] = format_timeout(self.instance.timeout_seconds)

    def clean(self):
        data = super().clean()
        if data.get("timeout"):
            self.instance.timeout_seconds = data["timeout"]
        if not data.get("DELETE"):
            level = {
                "order": data.get("order"),
                "name": data.get("name"),
                "notify_scopes": data.get("notify_scopes") or [],
                "notify_roles": data.get("notify_roles") or [],
                "notify_desk_ids": [d.pk for d in data.get("notify_desks") or []],
                "notify_agency_types": data.get("notify_agency_types") or [],
            }
            for problem in rules.audience_problems(level):
                self.add_error(None, problem)
        return data


class VersionForm(forms.ModelForm):
    """A version's settings, with the acknowledgement timeout shown and typed in minutes."""

    ack_timeout = TimeoutField(
        label="Acknowledgement times out after (min)",
        required=False,
        help_text=(
            "After an acknowledgement, the level re-arms if the desk reports no progress "
            "within this time. Minutes, e.g. 30. Empty: an acknowledgement never times out."
        ),
        widget=forms.TextInput(attrs={"size": 7}),
    )

    class Meta:
        fields = ("notes", "repeat_last_level", "max_repeats")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["ack_timeout"] = format_timeout(self.instance.ack_timeout_seconds)

    def clean(self):
        data = super().clean()
        if "ack_timeout" in data:
            self.instance.ack_timeout_seconds = data["ack_timeout"]
        return data


class OrderedFormSet(forms.BaseInlineFormSet):
    """Duplicate orders explained in words (before Django's generic duplicate message)."""

    what = "row"

    def clean(self):
        rows = [
            {"order": form.cleaned_data.get("order")}
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        problems = rules.order_problems(rows, what=self.what, example="1, 2, 3 …", gaps=False)
        if problems:
            raise ValidationError(problems)
        super().clean()


class LevelFormSet(OrderedFormSet):
    what = "level"


class ChecklistFormSet(OrderedFormSet):
    what = "checklist item"


class ChecklistItemForm(forms.ModelForm):
    class Meta:
        model = ChecklistItem
        fields = ["order", "party_role", "title", "description", "due_after_minutes"]
        widgets = {
            "order": forms.NumberInput(attrs={"style": "width: 4em"}),
            "title": forms.TextInput(attrs={"size": 40}),
            "description": forms.Textarea(attrs={"rows": 2, "cols": 40}),
            "due_after_minutes": forms.NumberInput(attrs={"style": "width: 6em"}),
        }


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A protocol file exported from here (.yaml, .yml or .json).")
    format = forms.ChoiceField(
        choices=[("", gettext_lazy("From the file name")), ("yaml", "YAML"), ("json", "JSON")],
        required=False,
    )
