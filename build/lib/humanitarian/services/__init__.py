"""Write actions for humanitarian assistance, one module per area.

- ``assistance``: requests and pledges (EDXL-RM RequestResource … ReportResourceDeploymentStatus)
- ``standby``: standby-asset suggestions and offers from an asset
- ``shelters``: shelter sites and occupancy readings
- ``displacement``: CSV/HXL import of displacement figures
- ``gaps``, ``exports``, ``sitreps``, ``reminders``: figures, HXL files, reports, reminders
"""
