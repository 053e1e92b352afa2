"""The weekly digest: its figures, text and chart."""
