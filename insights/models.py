"""What a merchant's campaigns bring: the daily figures behind the portal's insights and reports."""
