"""The member-state directory: states, desks, people and their roles, and access."""
