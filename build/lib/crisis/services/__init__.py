"""Write actions of the crisis app, one module per area (directory, protocols, crises, …).

Import from the area module: ``from crisis.services.directory import issue_token``.
"""
