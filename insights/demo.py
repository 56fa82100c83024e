"""Demo figures: placeholder replaced below."""


def seed_demo_figures() -> list[str]:
    return []
