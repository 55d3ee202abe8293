from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "ketaclinic.inventory"
    label = "inventory"

    def ready(self) -> None:
        # Charting comes before inventory: the REMS form finds a session's drawn lots
        # through the source inventory registers here.
        from ketaclinic.charting.rems_facts import register_lot_source

        from .session_lots import BASIS, lots_drawn_for

        register_lot_source(BASIS, lots_drawn_for)
