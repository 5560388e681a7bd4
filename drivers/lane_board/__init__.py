"""The lane driver board (货道驱动板) of ``docs/lane-board-protocol.md``, in four layers.

``transport`` moves bytes (pyserial's ``serial_for_url``: a device, ``loop://``,
``socket://``, ``spy://``); ``framer`` cuts bytes into checked 8-byte frames and hunts
for the header after garbage; ``codec`` turns frames into typed requests and replies;
``client`` runs one request at a time with the datasheet's timeouts, polling and retry
rules on its own reader thread. ``simulator`` is the datasheet made executable, served
on a pseudo-terminal so the real client talks to it through a real serial port.
"""
