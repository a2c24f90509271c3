from rest_framework.routers import SimpleRouter

from paging.api import ContactMethodViewSet, PageViewSet

router = SimpleRouter(trailing_slash=True)
router.register("contact-methods", ContactMethodViewSet, basename="contact-method")
router.register("pages", PageViewSet, basename="page")

urlpatterns = router.urls
