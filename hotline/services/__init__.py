"""Write actions of the hotline app, one module per area.

Import from the area module: ``from hotline.services.messages import send_message``.

- ``channels``: opening, accepting, changing and archiving lines; ``crisis_rooms``: the
  protocol level action that opens one.
- ``sequence``: the per-line seq claim (``append_message``) under every message.
- ``messages``: sending; ``receipts``: delivered, read, acknowledged.
- ``escalation`` (flash acknowledgements) and ``line_checks``: deadline handlers;
  ``receipts`` tells them about acknowledgements, so it imports them, never the reverse.
- ``presence``; ``common``: acting desk, trace, regional desks.

No module imports one that imports it back (import-linter's ``acyclic_siblings``).
"""
