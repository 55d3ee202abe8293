from django.urls import path

from . import views

app_name = "inventory"

urlpatterns = [
    path("", views.lot_list, name="lots"),
    path("receive/", views.receive, name="receive"),
    path("counts/", views.count_list, name="counts"),
    path("lots/<int:lot_id>/", views.lot_detail, name="lot"),
    path("lots/<int:lot_id>/count/", views.count, name="count"),
    path("lots/<int:lot_id>/waste/", views.stock_waste, name="stock_waste"),
    path("sessions/<int:session_id>/", views.session_entries, name="session"),
    path("sessions/<int:session_id>/draw/", views.draw, name="draw"),
    path("sessions/<int:session_id>/administer/", views.administer, name="administer"),
    path("sessions/<int:session_id>/waste/", views.waste, name="waste"),
]
