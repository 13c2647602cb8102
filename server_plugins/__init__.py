"""Plug-ins loaded by the Rasa server (not the action server) by module path:
a resilient SQL tracker store and an env-configured lock store, and what the
channels share at start-up (input guards, worker warm-up, turn balancing).
Nothing here runs at import time beyond defining classes."""
