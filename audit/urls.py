from django.urls import path

from audit.api import ReadRecordList

urlpatterns = [
    path("audit/reads/", ReadRecordList.as_view(), name="audit-reads"),
]
