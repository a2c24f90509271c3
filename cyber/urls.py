from django.urls import path

from cyber import api

urlpatterns = [
    path("crises/<int:id>/cyber-items/", api.CyberItemsView.as_view(), name="crisis-cyber-items"),
    path("crises/<int:id>/stix/", api.StixBundleView.as_view(), name="crisis-stix"),
]
