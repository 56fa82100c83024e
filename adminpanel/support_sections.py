"""The sections of a person's support page (/staff/users/<id>/), one line each.

Each section is a template fragment with its own context function and the permission a viewer
needs to see it. The support view renders the sections the viewer may see, in ``order``; apps
below the admin panel never import this module: their section is listed here, by the admin panel.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts.models import User
from monitoring import selectors as monitoring_selectors


@dataclass(frozen=True)
class SupportSection:
    key: str
    title: str
    template: str
    context: Callable[[User], dict[str, Any]]
    permission: str
    order: int


SECTIONS: list[SupportSection] = []
"""Filled below, one entry per section; keys are unique (a test holds it)."""


def sections_for(*, viewer: User) -> list[SupportSection]:
    """The sections ``viewer`` may see, in display order."""
    return sorted((s for s in SECTIONS if viewer.has_perm(s.permission)), key=lambda s: (s.order, s.key))


SECTIONS.append(
    SupportSection(
        key="fraud_flags",
        title="Fraud flags",
        template="monitoring/_person_flags.html",
        context=monitoring_selectors.person_flags_context,
        permission="monitoring.view_fraudflag",
        order=80,
    )
)
