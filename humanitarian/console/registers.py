"""Shelters and the standby register in the console, for the desks that keep them.

- A shelter's readings (population, capacity, status) are recorded by a desk of the state
  that manages it (``humanitarian.services.shelters.update_shelter``); a desk of a state
  registers a shelter it manages while the crisis is working (``register_shelter``).
- The standby register is shared (everybody sees it); each state's desks add and change
  their own state's assets (``humanitarian.services.standby``).

Forms are offered only where the service would accept them:
``humanitarian.services._common.writing_desk_for_state`` is the check the services make.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.console.shell import console_view, current_desk, render_console, run_action, safe_next
from core.errors import NotFound
from crisis.console.desks import acting_desk
from directory.access import Access, access_for
from directory.models import Desk
from humanitarian.models import ITEM_CHOICES, AssetKind, ShelterStatus
from humanitarian.selectors import shelters_visible_to, standby_assets_visible_to, visible_crisis
from humanitarian.services import shelters, standby
from humanitarian.services._common import (
    MAX_COUNT,
    WORKING_CRISIS_STATUSES,
    writing_desk_for_state,
)

# --- shelters on the aid board -----------------------------------------------------------------


class ShelterReadingForm(forms.Form):
    population = forms.IntegerField(min_value=0, max_value=MAX_COUNT, label=gettext_lazy("People"))
    capacity = forms.IntegerField(min_value=1, max_value=MAX_COUNT, label=gettext_lazy("Capacity"))
    status = forms.ChoiceField(
        choices=[("", gettext_lazy("as occupancy says")), *ShelterStatus.choices],
        required=False,
        label=gettext_lazy("Status"),
    )


class NewShelterForm(forms.Form):
    name = forms.CharField(max_length=200, label=gettext_lazy("Name"))
    capacity = forms.IntegerField(min_value=1, max_value=MAX_COUNT, label=gettext_lazy("Capacity"))
    population = forms.IntegerField(
        min_value=0, max_value=MAX_COUNT, initial=0, label=gettext_lazy("People")
    )
    location = forms.CharField(max_length=200, required=False, label=gettext_lazy("Location"))


def editable_shelter_ids(access: Access, shelter_list) -> set[int]:
    """Shelters whose readings the caller may record (a writing desk of the managing state)."""
    return {s.pk for s in shelter_list if writing_desk_for_state(access, s.managing_state_id)}


def may_register_shelter(access: Access, desk: Desk | None, crisis) -> bool:
    """As ``register_shelter`` checks: a writing member of a member state's desk, while the
    crisis takes new records."""
    return (
        desk is not None
        and desk.state_id is not None
        and access.can_act_for(desk)
        and crisis.status in WORKING_CRISIS_STATUSES
    )


def form_refused(request, form, back: str):
    """A form the console refuses (shape, types): each error as a message, back to ``back``."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        problem = " ".join(errors)
        messages.error(
            request,
            _("%(field)s: %(problem)s") % {"field": label, "problem": problem}
            if label
            else problem,
        )
    return redirect(back)


def _board(crisis_id: int) -> str:
    return reverse("console:aid-board", kwargs={"crisis_id": crisis_id}) + "#shelters"


@require_POST
@console_view
def update_shelter(request, shelter_id: int):
    access = access_for(request.user)
    shelter = shelters_visible_to(access).filter(pk=shelter_id).first()
    if shelter is None:
        raise NotFound(_("No such shelter."), details={"shelter": shelter_id})
    back = _board(shelter.crisis_id)
    form = ShelterReadingForm(request.POST)
    if not form.is_valid():
        return form_refused(request, form, back)
    data = form.cleaned_data
    return run_action(
        request,
        lambda: shelters.update_shelter(
            by=request.user,
            shelter_id=shelter.pk,
            population=data["population"],
            capacity=data["capacity"],
            status=data["status"] or None,
        ),
        success=lambda s: (
            _("%(name)s: %(people)s people of %(capacity)s, %(status)s.")
            % {
                "name": s.name,
                "people": s.population,
                "capacity": s.capacity,
                "status": s.get_status_display().lower(),
            }
        ),
        redirect_to=back,
    )


@require_POST
@console_view
def new_shelter(request, crisis_id: int):
    access = access_for(request.user)
    crisis = visible_crisis(access, crisis_id)
    back = _board(crisis.pk)
    form = NewShelterForm(request.POST)
    if not form.is_valid():
        return form_refused(request, form, back)
    data = form.cleaned_data
    return run_action(
        request,
        lambda: shelters.register_shelter(
            by=request.user,
            desk=acting_desk(request),
            crisis=crisis,
            name=data["name"],
            capacity=data["capacity"],
            population=data["population"] or 0,
            location=data["location"],
        ),
        success=lambda s: _("Shelter %(name)s registered.") % {"name": s.name},
        redirect_to=back,
    )


# --- the standby register ---------------------------------------------------------------------


class AssetChangeForm(forms.Form):
    capacity = forms.IntegerField(min_value=1, max_value=MAX_COUNT, label=gettext_lazy("Capacity"))
    readiness_hours = forms.IntegerField(
        min_value=0, max_value=standby.MAX_READINESS_HOURS, label=gettext_lazy("Ready in (hours)")
    )
    location = forms.CharField(max_length=200, required=False, label=gettext_lazy("Location"))
    is_available = forms.BooleanField(required=False, label=gettext_lazy("Available now"))


class NewAssetForm(AssetChangeForm):
    name = forms.CharField(max_length=200, label=gettext_lazy("Name"))
    kind = forms.ChoiceField(choices=AssetKind.choices, label=gettext_lazy("Kind"))
    item = forms.ChoiceField(choices=ITEM_CHOICES, label=gettext_lazy("Provides"))
    field_order = ["name", "kind", "item", "capacity", "readiness_hours", "location"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["is_available"].initial = True


def register_desk(access: Access, desk: Desk | None) -> Desk | None:
    """The desk the person adds assets for: the current desk, if it is a member state's
    desk they write for (``register_standby_asset`` checks the same)."""
    if desk is None or desk.state_id is None or not access.can_act_for(desk):
        return None
    return desk


@console_view
def standby_register(request):
    """The region's standby register; each state's desks edit their own state's assets."""
    access = access_for(request.user)
    desk = current_desk(request)
    assets = list(standby_assets_visible_to(access))
    adder = register_desk(access, desk)
    return render_console(
        request,
        "humanitarian/console/standby.html",
        {
            "assets": [
                {"asset": a, "editable": writing_desk_for_state(access, a.state_id) is not None}
                for a in assets
            ],
            "adder": adder,
            "new_form": NewAssetForm(auto_id="new-asset-%s") if adder else None,
        },
    )


def _register_url() -> str:
    return reverse("console:standby")


@require_POST
@console_view
def new_asset(request):
    form = NewAssetForm(request.POST)
    if not form.is_valid():
        return form_refused(request, form, _register_url())
    data = form.cleaned_data
    return run_action(
        request,
        lambda: standby.register_standby_asset(
            by=request.user,
            desk=acting_desk(request),
            name=data["name"],
            kind=data["kind"],
            item=data["item"],
            capacity=data["capacity"],
            readiness_hours=data["readiness_hours"],
            location=data["location"],
            is_available=data["is_available"],
        ),
        success=lambda a: _("%(name)s added to the standby register.") % {"name": a.name},
        redirect_to=_register_url(),
    )


@require_POST
@console_view
def change_asset(request, asset_id: int):
    form = AssetChangeForm(request.POST)
    back = safe_next(request, _register_url())
    if not form.is_valid():
        return form_refused(request, form, back)
    data = form.cleaned_data
    return run_action(
        request,
        lambda: standby.update_standby_asset(
            by=request.user,
            asset_id=asset_id,
            capacity=data["capacity"],
            readiness_hours=data["readiness_hours"],
            location=data["location"],
            is_available=data["is_available"],
        ),
        success=lambda a: _("%(name)s updated.") % {"name": a.name},
        redirect_to=back,
    )
