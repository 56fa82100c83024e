"""Spend codes as QR codes: inline SVG made by segno.

The SVG carries no ``style`` attribute and no script, so the strict Content-Security-Policy
allows it inline; the light modules are transparent and the page's CSS gives the white
background a scanner needs.
"""

import segno


def spend_code_svg(code: str) -> str:
    qr = segno.make(code, error="m", micro=False)
    return qr.svg_inline(scale=6, border=2, dark="#111", omitsize=True, title=f"Spend code {code}")
