"""Input and output channels of the Rasa server (not the action server).

Rasa loads these classes by module path from credentials.yml, e.g.
``channels.telegram.TelegramInput:``. Each messaging connector reads its
secrets from environment variables (see .env.example) and, when they are not
set, stays off with one log line instead of stopping the server.

Nothing in this package runs at import time beyond defining classes.
"""
