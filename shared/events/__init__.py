"""Event contracts: one module per event type, one envelope, one registry.

Within a major schema version only additive changes are allowed; a consumer
dead-letters an event whose major version it does not know.
"""
