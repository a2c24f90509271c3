from django.urls import path
from django.utils.translation import gettext_lazy as _

from core.console.shell import register_nav, register_panel
from humanitarian.console import registers, views

register_nav(_("Humanitarian"), "console:aid", order=30)
register_nav(_("Map"), "console:map", order=35)
register_panel("crisis", "aid", views.aid_panel, order=30, live_on="assistance.")

urlpatterns = [
    path("map/", views.region_map, name="map"),
    path("aid/", views.board_index, name="aid"),
    path("aid/<int:crisis_id>/", views.board, name="aid-board"),
    path("aid/<int:crisis_id>/requests/", views.new_request, name="aid-new-request"),
    path("aid/<int:crisis_id>/import/", views.import_csv, name="aid-import"),
    path("aid/<int:crisis_id>/sitreps/", views.sitreps, name="aid-sitreps"),
    path("aid/sitreps/<int:sitrep_id>/", views.sitrep, name="aid-sitrep"),
    path("aid/<int:crisis_id>/shelters/", registers.new_shelter, name="aid-new-shelter"),
    path(
        "aid/shelters/<int:shelter_id>/reading/",
        registers.update_shelter,
        name="aid-shelter-update",
    ),
    path("aid/standby/", registers.standby_register, name="standby"),
    path("aid/standby/new/", registers.new_asset, name="standby-new"),
    path("aid/standby/<int:asset_id>/", registers.change_asset, name="standby-change"),
    path("aid/requests/<int:request_id>/pledge/", views.pledge, name="aid-pledge"),
    path(
        "aid/pledges/<int:pledge_id>/<slug:action>/", views.pledge_action, name="aid-pledge-action"
    ),
]
