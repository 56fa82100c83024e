"""What a merchant's campaigns bring: the daily figures behind the portal's insights and reports."""

# Report exports (h11's part of issue 15) live in their own module; importing it here lets Django find them.
from insights.export_models import ReportExport  # noqa: F401
