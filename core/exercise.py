"""The words drill traffic is marked with, on every surface (pages, e-mail, SMS, voice,
the console): the radio convention every operator knows. Kept here, at the bottom, so
``paging`` (below ``crisis``) and ``crisis`` say the same words."""

EXERCISE_MARK = "EXERCISE EXERCISE EXERCISE"
