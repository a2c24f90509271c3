"""Who is on duty at a desk (stand-in on this branch; the rosters app replaces it)."""
