"""The kiosk's core: the rules of a redemption as plain Python.

Nothing in this package imports Qt, a serial port or SQL. Money is integer 益币; the
visit is a state machine driven by the layers above; code verification is pure apart
from the stores it is handed.
"""
