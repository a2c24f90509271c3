"""Paging's write actions (see each module's docstring):

- ``pages``: :func:`page_desk` (:func:`page_desks` for many), :func:`acknowledge_by_link`,
  :func:`acknowledge_page`, :func:`resolve_pages`,
  :func:`register_ack_handler`;
- ``delivery``: delivery attempts on the deadline engine (``paging.attempt``);
- ``contacts``: contact methods and their verification;
- ``webhooks``: desks' webhooks (Standard Webhooks), managed by supervisors.
"""

from paging.services.contacts import (
    add_contact_method,
    remove_contact_method,
    send_verification_code,
    verify_contact_method,
)
from paging.services.delivery import record_provider_status
from paging.services.pages import (
    acknowledge_by_link,
    acknowledge_by_reply,
    acknowledge_page,
    page_desk,
    page_desks,
    register_ack_handler,
    resolve_pages,
)
from paging.services.webhooks import (
    add_desk_webhook,
    remove_desk_webhook,
    rotate_webhook_secret,
    update_desk_webhook,
)

__all__ = [
    "acknowledge_by_link",
    "acknowledge_by_reply",
    "acknowledge_page",
    "add_contact_method",
    "add_desk_webhook",
    "page_desk",
    "page_desks",
    "record_provider_status",
    "register_ack_handler",
    "remove_contact_method",
    "remove_desk_webhook",
    "resolve_pages",
    "rotate_webhook_secret",
    "send_verification_code",
    "update_desk_webhook",
    "verify_contact_method",
]
