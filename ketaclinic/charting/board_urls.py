from django.urls import path

from . import board

app_name = "board"

urlpatterns = [
    path("", board.board, name="board"),
]
