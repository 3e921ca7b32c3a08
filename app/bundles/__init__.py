"""Bundles (一件事/一表通): one form, one parent case, one child case per member item, approved in parallel."""
