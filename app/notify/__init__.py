"""In-site notifications (and, later, email/SMS adapters behind one interface)."""
