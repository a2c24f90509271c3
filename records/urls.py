from django.urls import path

from records.api import CrisisRecordView

urlpatterns = [
    path("crises/<int:pk>/record/", CrisisRecordView.as_view(), name="crisis-record"),
]
