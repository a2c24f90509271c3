"""Attachments: files (photos, forms, PDFs) on hotline messages, situation updates and
assistance requests. See ``attachments.services`` and docs/interoperability.md."""
