"""The operator web console: server-rendered pages, live over the desk's websocket.

Each app keeps its own console pages (``<app>/console/``, templates under
``<app>/templates/<app>/console/``); the shared frame lives here: the current desk (the
desk switcher), rendering with the base template, turning domain errors into pages,
and two small registries so ``hotline`` and ``humanitarian`` can add navigation entries
and dashboard panels without ``crisis`` importing them.

Console views are thin edges like the API: reads go through ``access_for`` and the
selectors, writes through the services.
"""
