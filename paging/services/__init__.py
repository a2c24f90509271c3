"""Paging's write actions (see each module's docstring):

- ``pages``: :func:`page_desk`, :func:`acknowledge_by_link`, :func:`acknowledge_page`,
  :func:`resolve_pages`,
  :func:`register_ack_handler`;
- ``delivery``: delivery attempts on the deadline engine (``paging.attempt``);
- ``contacts``: contact methods and their verification.
"""

from paging.services.contacts import (
    add_contact_method,
    remove_contact_method,
    send_verification_code,
    verify_contact_method,
)
from paging.services.pages import (
    acknowledge_by_link,
    acknowledge_page,
    page_desk,
    register_ack_handler,
    resolve_pages,
)

__all__ = [
    "acknowledge_by_link",
    "acknowledge_page",
    "add_contact_method",
    "page_desk",
    "register_ack_handler",
    "remove_contact_method",
    "resolve_pages",
    "send_verification_code",
    "verify_contact_method",
]
