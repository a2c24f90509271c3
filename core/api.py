"""Small pieces every API view shares."""

from core.access import access_for


class AccessMixin:
    """Gives a DRF view ``self.access``: the caller's desks, roles and reach."""

    @property
    def access(self):
        return access_for(self.request.user)
