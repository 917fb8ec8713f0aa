"""The Moonraker gate: a read-only JSON-RPC bridge between a client's websocket and Moonraker's.

Every message from Moonraker reaches the client untouched; from the client, only calls of the
allowlisted methods reach Moonraker, and the gate answers everything else itself.
"""
