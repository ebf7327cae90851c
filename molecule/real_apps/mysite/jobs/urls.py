from django.urls import path

from . import views

urlpatterns = [
    path("version/", views.version),
    path("enqueue/", views.enqueue),
    path("done/<str:job>/", views.done),
    path("upload/", views.upload),
]
