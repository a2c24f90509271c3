"""The read audit: who exported what, who opened which transcript, who read what they are
not party to. Append-only, queryable by auditors and coordinators (docs/security.md)."""
