from django.urls import path

from paging.views import ack_view

urlpatterns = [path("ack/<str:token>/", ack_view, name="paging-ack")]
