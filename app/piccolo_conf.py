"""Piccolo's configuration: the engine from DATABASE_URL and the one app registry."""

from piccolo.conf.apps import AppRegistry

from app.db import make_engine
from app.settings import get_settings

DB = make_engine(get_settings().database_url)

APP_REGISTRY = AppRegistry(apps=["app.piccolo_app"])
