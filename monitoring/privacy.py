"""What transaction monitoring holds about a person, for "download my data" (accounts.privacy_registry).

Fraud flags are not exported: they are the platform's own fraud-prevention records, and telling the
person what a rule suspected would defeat the check (docs/privacy.md; docs/monitoring.md). Their
``details`` hold ids and counts only; closing an account keeps them, tied to the anonymised shell.
"""

from accounts.privacy_registry import not_exported_register


def register() -> None:
    not_exported_register(
        fields=("monitoring.FraudFlag.user",),
        reason="Fraud-prevention records: what a rule suspected is not told to the person it is about.",
    )
    not_exported_register(
        fields=("monitoring.FraudFlag.decided_by",),
        reason="The staff member who decided on a flag: staff acting, not the person's data.",
    )
