from rest_framework.routers import DefaultRouter

from hotline.api.views import ChannelViewSet

router = DefaultRouter(trailing_slash=True)
router.register("channels", ChannelViewSet, basename="channel")

urlpatterns = router.urls
