"""The touch UI (PySide6 Widgets): thin screens over the core's visit state machine.

Widgets take attributes down and send signals up; the controller turns signals into
calls on the session (core) and on the services, which run on a worker thread and come
back as queued signals. No widget opens a database session or talks to a machine.
"""
