from django import template

register = template.Library()


@register.filter
def distance(metres: int) -> str:
    """A distance as a person reads it: "350 m" under a kilometre, then "2.4 km", then "12 km"."""
    if metres < 1000:
        return f"{max(10, round(metres, -1))} m"
    if metres < 10_000:
        return f"{metres / 1000:.1f} km"
    return f"{round(metres / 1000)} km"
