from django.urls import path

from rosters import api

urlpatterns = [
    path("rosters/", api.RosterList.as_view(), name="roster-list"),
    path("rosters/<int:id>/", api.RosterDetail.as_view(), name="roster-detail"),
    path("rosters/<int:id>/calendar.ics", api.RosterCalendar.as_view(), name="roster-calendar"),
    path("rosters/<int:id>/import/", api.RosterImport.as_view(), name="roster-import"),
    path("rosters/<int:id>/shifts/", api.ShiftCreate.as_view(), name="roster-shifts"),
    path("rosters/<int:id>/overrides/", api.OverrideCreate.as_view(), name="roster-overrides"),
    path("rosters/<int:id>/handover-notes/", api.HandoverNotes.as_view(), name="roster-handover"),
    path("rosters/shifts/<int:id>/", api.ShiftDetail.as_view(), name="roster-shift"),
    path("rosters/overrides/<int:id>/", api.OverrideDetail.as_view(), name="roster-override"),
    path("desks/<str:code>/roster/", api.DeskRoster.as_view(), name="desk-roster"),
    path("desks/<str:code>/on-duty/", api.OnDutyView.as_view(), name="desk-on-duty"),
]
