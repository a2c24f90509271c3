"""Write actions of the crisis app, one module per area (directory, protocols, crises, …).

Import from the area module: ``from directory.services import issue_token``.
"""
