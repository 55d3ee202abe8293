from django.apps import AppConfig


class ChartingConfig(AppConfig):
    name = "ketaclinic.charting"
    label = "charting"
