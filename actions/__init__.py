"""Baken's custom actions, one module per topic (see DESIGN.md)."""
