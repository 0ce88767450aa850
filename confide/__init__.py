"""Confide: an open-source online therapy platform."""
