"""Plug-ins loaded by the Rasa server (not the action server) by module path:
a guarded REST channel, a resilient SQL tracker store and an env-configured
lock store. Nothing here runs at import time beyond defining classes."""
