from django.apps import AppConfig


class HotlineConfig(AppConfig):
    name = "hotline"
    verbose_name = "Hotlines between national desks"

    def ready(self):
        # Deadline handlers (flash acknowledgements, line checks) register on import, in
        # every process: web (to schedule) and worker (to fire); so does the protocol level
        # action that opens a crisis room.
        from hotline.services import crisis_rooms, escalation, line_checks  # noqa: F401
