"""The full record of a crisis: one verifiable archive (``docs/records.md``)."""
