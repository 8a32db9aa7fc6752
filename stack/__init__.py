"""The real processes, started on free ports for tests and benchmarks: one copy of the code.

    processes.py  free ports, start / wait until up / stop, the two environments' binaries
    rasa.py       a Rasa server (pausable, killable, restartable), the action server, both
    desk.py       the whole desk in a thread (uvicorn), or the full stack as processes
    browser.py    Debian's Chromium driven by Playwright, and the admin page logged in
    store.py      what a running desk stored (a message's parse), waited for

`processes` and `rasa` use the standard library only, so both environments import them
(tests/dialogue runs in the Rasa one); `desk`, `browser` and `store` need the desk's environment.
"""
