"""Baken's Dutch NLU parts for Rasa: the spaCy pipeline builder and custom components."""
