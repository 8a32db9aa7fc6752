"""The worker inbox's JSON API (`api`: login, queue, claim, reply, hand back, transfer,
close, live stream) and the attachments workers may open (`attachments_api`)."""
