from django.urls import path

from deadlines.api import DeadlineListView

urlpatterns = [path("deadlines/", DeadlineListView.as_view(), name="deadline-list")]
