"""Shifts (maraudes)."""
