"""The desk's citizen side: channels (Telegram, web widget) and routing to Rasa."""
