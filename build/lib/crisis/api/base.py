"""Small pieces every API view shares."""

from crisis.access import Access, access_for


class AccessMixin:
    """Gives a DRF view ``self.access``: the caller's desks, roles and reach."""

    @property
    def access(self) -> Access:
        return access_for(self.request.user)
