"""Yiwang 一网: the government online service hall."""

import os

# Piccolo finds its engine through this module path; set it before any table is imported.
os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")
