"""The worker side of the desk: everything a social worker or an admin touches.

    store/     the conversation store: tables, migrations, the conversation state machine
               (conversations.py), message processing leases, events, the queue and office
               hours, attachments, tracker retention. Imports nothing from bot/ or desk/.
    inbox/     the worker inbox's API: queue, claim, reply, hand back, transfer, close, files
    admin/     the admin's pages: dashboard, accounts, the gemeente's settings
    learning/  the learning loop: NLU inbox, annotation export, training jobs, model
               registry and promotion
    auth.py    passwords and signed worker sessions
    config.py  the desk's settings from the environment
    deps.py    what every API route needs: the typed desk state, sessions, the logged-in worker

The citizen side (channels, routing, the Rasa client) is `bot/`; `desk/` wires both into
one application. Arrows point one way: desk → bot → handoff.store; nothing here imports bot.
"""
