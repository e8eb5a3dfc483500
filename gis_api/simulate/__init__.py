"""A live incident simulation on a loaded district: cases reported, dispatched, ridden to and closed.

Everything goes through the case services the API uses, so live events reach the SSE stream and the
command centre shows the whole loop. One event loop (a timer heap in simulated seconds) drives all
cases and workers; it is deterministic for a seed.
"""
