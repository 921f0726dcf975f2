"""`python -m jobctl`: start, watch, list, cancel and retry jobs; emit trigger events.

Locally, where nothing delivers AWS events, `jobctl watch-sources` lists the
sources bucket and `jobctl emit` builds single events; both hand them to the
same `app.py` handlers that EventBridge calls in the cloud.
"""
