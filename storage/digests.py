"""Digests that let the log vouch for words it does not hold (notes, reasons)."""

from __future__ import annotations

import hashlib


def text_digest(text: str) -> str:
    """sha256 of free text, as hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
