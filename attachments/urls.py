from django.urls import path

from attachments.api import AttachmentDetailView, AttachmentDownloadView, AttachmentListView

urlpatterns = [
    path("attachments/", AttachmentListView.as_view(), name="attachments"),
    path(
        "attachments/<int:id>/",
        AttachmentDetailView.as_view(),
        name="attachment",
    ),
    path(
        "attachments/<int:id>/download/",
        AttachmentDownloadView.as_view(),
        name="attachment-download",
    ),
]
