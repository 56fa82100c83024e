"""What content holds about a person, for the data export (accounts.privacy_registry): nothing of
theirs — only which staff member published a version of a public page, FAQ entry or banner."""

from accounts.privacy_registry import not_exported_register


def register() -> None:
    not_exported_register(
        fields=(
            "content.PageVersion.published_by",
            "content.FaqEntryVersion.published_by",
            "content.BannerVersion.published_by",
        ),
        reason="The staff member who published a version of the public site's text: staff acting, not a person's data.",
    )
