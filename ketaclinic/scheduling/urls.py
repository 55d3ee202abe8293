from django.urls import path

from . import feeds, views

app_name = "scheduling"

urlpatterns = [
    path("", views.day_view, name="day"),
    path("staff/<int:user_id>/", views.week_view, name="week"),
    path("appointments/<int:appointment_id>/", views.appointment_detail, name="appointment"),
    path("appointments/<int:appointment_id>/move/", views.move, name="move"),
    path("appointments/<int:appointment_id>/status/", views.change_status, name="status"),
    path("patients/<int:patient_id>/book/", views.book, name="book"),
    path("patients/<int:patient_id>/course/", views.book_course, name="book_course"),
    path("patients/<int:patient_id>/courses/<slug:course_key>/", views.course, name="course"),
]

urlpatterns += [
    path("feed/", feeds.manage, name="feed_manage"),
    path("feed/<str:token>.ics", feeds.feed, name="feed"),
]
