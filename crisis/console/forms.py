"""Console forms: shape and types only; the services decide everything else."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crisis.models import CrisisCategory, Severity
from directory.models import MemberState


class ReportCrisisForm(forms.Form):
    category = forms.ChoiceField(
        choices=[("", _("— choose —")), *CrisisCategory.choices], label=_("Category")
    )
    title = forms.CharField(
        max_length=200, widget=forms.TextInput(attrs={"size": 60}), label=_("Title")
    )
    severity = forms.TypedChoiceField(
        choices=[("", _("— choose —")), *Severity.choices],
        coerce=int,
        empty_value=None,
        label=_("Severity"),
    )
    affected_states = forms.ModelMultipleChoiceField(
        queryset=MemberState.objects.none(),
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Every member state the crisis affects."),
        label=_("Affected states"),
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label=_("Description")
    )
    latitude = forms.DecimalField(
        required=False,
        min_value=-90,
        max_value=90,
        decimal_places=5,
        max_digits=8,
        label=_("Latitude"),
    )
    longitude = forms.DecimalField(
        required=False,
        min_value=-180,
        max_value=180,
        decimal_places=5,
        max_digits=8,
        label=_("Longitude"),
    )
    admin_area = forms.CharField(
        max_length=120,
        required=False,
        help_text=_("ISO 3166-2 code and/or name, e.g. TH-82"),
        label=_("Area"),
    )
    exercise = forms.BooleanField(
        required=False,
        label=_("This is an exercise (drill)"),
        help_text=_(
            "An exercise crisis is marked EXERCISE EXERCISE EXERCISE on every page, message, "
            "e-mail and SMS, and left out of real figures. It cannot be changed later."
        ),
    )

    def __init__(self, *args, states=None, **kwargs):
        super().__init__(*args, **kwargs)
        if states is not None:
            self.fields["affected_states"].queryset = states

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise forms.ValidationError(_("Give both latitude and longitude, or neither."))
        return data

    def add_domain_error(self, exc) -> None:
        """Show a service's refusal beside the field it names, else above the form."""
        fields = (exc.details or {}).get("fields") or {}
        placed = False
        for name, problems in fields.items():
            if name in self.fields:
                for problem in problems if isinstance(problems, list) else [problems]:
                    self.add_error(name, str(problem))
                placed = True
        if not placed:
            self.add_error(None, exc.message)
