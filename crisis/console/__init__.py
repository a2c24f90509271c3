"""Console pages for crises: the dashboard, a crisis, the report form.

Thin edges like the API: reads go through the selectors, writes through the services;
the frame they render in is the shell in ``core.console``.
"""
