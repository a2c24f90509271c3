"""REST edges of the directory: the token endpoint, /me/, /states/ and /desks/."""
