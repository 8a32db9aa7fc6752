"""Plain-Python core of Baken, shared by the Rasa side and the desk.

Nothing here imports Rasa, rasa-sdk, spaCy or the desk's frameworks, so the desk can use
the same triage rules as its crisis safety net even when Rasa is down.
"""
