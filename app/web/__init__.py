"""Web plumbing shared by every domain: templates, sessions, security headers, error pages."""
