from django.urls import path

from exercises import api

urlpatterns = [
    path("exercises/scenarios/", api.ScenarioList.as_view(), name="exercise-scenarios"),
    path("exercises/scenarios/<str:key>/", api.ScenarioDetail.as_view(), name="exercise-scenario"),
    path("exercises/runs/", api.RunList.as_view(), name="exercise-runs"),
    path("exercises/runs/<int:id>/", api.RunDetail.as_view(), name="exercise-run"),
    path("exercises/runs/<int:id>/pause/", api.RunPause.as_view(), name="exercise-run-pause"),
    path("exercises/runs/<int:id>/resume/", api.RunResume.as_view(), name="exercise-run-resume"),
    path("exercises/runs/<int:id>/end/", api.RunEnd.as_view(), name="exercise-run-end"),
    path("exercises/runs/<int:id>/injects/", api.RunInjects.as_view(), name="exercise-run-injects"),
]
