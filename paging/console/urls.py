from django.urls import path

from core.console.shell import register_nav
from paging.console import views

register_nav("Contact methods", "console:contact-methods", order=50)
register_nav("Webhooks", "console:webhooks", order=60)

urlpatterns = [
    path("account/contact-methods/", views.contact_methods, name="contact-methods"),
    path(
        "account/contact-methods/<int:pk>/verify/",
        views.verify_method,
        name="contact-method-verify",
    ),
    path(
        "account/contact-methods/<int:pk>/resend/",
        views.resend_code,
        name="contact-method-resend",
    ),
    path(
        "account/contact-methods/<int:pk>/remove/",
        views.remove_method,
        name="contact-method-remove",
    ),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/", views.webhook, name="webhook"),
    path("webhooks/<int:pk>/rotate/", views.rotate_secret, name="webhook-rotate"),
    path("webhooks/<int:pk>/active/", views.set_active, name="webhook-active"),
    path("webhooks/<int:pk>/remove/", views.remove_webhook, name="webhook-remove"),
]
