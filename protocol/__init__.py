"""What the kiosk and the hub share, and the only package both import.

``protocol.sync`` is the sync contract (pydantic models of every push event, the push
request and reply and the pull page, with a protocol version); ``protocol.codes`` the
volunteer code format (the hub signs, the kiosk checks); ``protocol.pins`` the
technician PIN hash format (the hub hashes, the kiosk checks); ``protocol.sqlite`` the
durable SQLite engine and the migration runner both sides open their databases with.
It imports neither ``kiosk`` nor ``hub`` nor ``drivers``, and ``hub`` and ``kiosk`` import
nothing of each other.
"""
