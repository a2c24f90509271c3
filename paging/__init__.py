"""Paging: reach the people on duty by e-mail (SMS and voice later), until acknowledged."""
