"""Services: the use cases of the kiosk, in plain blocking Python.

A service method is one use case (a scan, one vend, a technician's change). It talks to
the store and the machine and returns core dataclasses. The UI calls it from a worker
thread, never from the GUI thread; tests call it directly.
"""
