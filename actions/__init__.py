"""Custom actions of the headache-treatment FAQ bot.

The rasa_sdk executor imports every module in this package when the action
server starts, so no module here may do work at import time: engines,
sessions and file reads all happen lazily inside functions.
"""
