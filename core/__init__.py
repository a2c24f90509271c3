"""The platform every app stands on, with no models and no import of any app.

Errors and their one shape, events after commit, middleware, health probes, websocket
authentication, the API base and the console shell. See docs/architecture.md.
"""
