"""The map settings every page with a Leaflet map reads (the public shop pages, the portal's location form)."""

from django.conf import settings


def map_tile_url() -> str:
    """Leaflet's tile URL template: ``MAP_TILE_URL``, else the tile server's usual ``{z}/{x}/{y}.png`` path."""
    return settings.MAP_TILE_URL or settings.MAP_TILE_ORIGIN.rstrip("/") + "/{z}/{x}/{y}.png"


def map_tile_attribution() -> str:
    return settings.MAP_TILE_ATTRIBUTION
