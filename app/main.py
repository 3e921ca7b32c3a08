"""create_app(): wiring only — routes, middleware, templates, static files, database lifecycle."""

from __future__ import annotations

import gc

from litestar import Litestar
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.static_files import create_static_files_router

from app.accounts.controllers import AccountController, OfficeController
from app.bundles.admin_controllers import BundleAdminController
from app.bundles.controllers import BundleController
from app.catalog.admin_controllers import CatalogAdminController
from app.catalog.controllers import CatalogController
from app.certificates.controllers import OfficeCertificateController, VerifyController, WalletController
from app.certificates.pdf import shutdown_pool
from app.db import close_pool, start_pool
from app.filings.controllers import FilingController, OfficeCaseController, ProxyController, TrackController
from app.filings.storage import limits
from app.jobs import start as start_jobs
from app.jobs import stop as stop_jobs
from app.lifelong.controllers import EnterpriseController, MeController
from app.lifelong.records_controllers import RecordsController
from app.lifelong.todo_controllers import TodoController
from app.settings import ROOT, get_settings
from app.supervision.complaints_controllers import (
    ComplaintController,
    OfficeComplaintController,
    SupervisionComplaintController,
)
from app.supervision.controllers import StatsController, SupervisionController
from app.supervision.disputes_controllers import DisputeController
from app.supervision.ratings_controllers import AppealController, RatingController, RectificationController
from app.web.access_log import AccessLog
from app.web.auth import SessionAuthMiddleware
from app.web.errors import EXCEPTION_HANDLERS
from app.web.forms import UnreadableFormMiddleware
from app.web.pages import BaselineController, SiteController
from app.web.security import csrf_config, security_headers
from app.web.templating import template_config
from app.workdays.controllers import CalendarAdminController


def settle_heap() -> None:
    """What startup built (routes, compiled templates, per-worker copies) lives as long as the worker: it is taken
    out of the cycle collector's view, whose full passes then scan only what requests make. Measured on /me with
    the benchmark's data: a quarter of the request was those passes."""
    gc.collect()
    gc.freeze()


def create_app() -> Litestar:
    settings = get_settings()
    optional = [BaselineController] if settings.bench_baseline else []
    return Litestar(
        route_handlers=[
            *optional,
            SiteController,
            CatalogController,
            AccountController,
            OfficeController,
            CatalogAdminController,
            BundleAdminController,
            CalendarAdminController,
            MeController,
            TodoController,
            EnterpriseController,
            RecordsController,
            FilingController,
            ComplaintController,
            OfficeComplaintController,
            SupervisionComplaintController,
            DisputeController,
            TrackController,
            OfficeCaseController,
            ProxyController,
            BundleController,
            WalletController,
            VerifyController,
            OfficeCertificateController,
            RatingController,
            RectificationController,
            AppealController,
            SupervisionController,
            StatsController,
            create_static_files_router(path="/static", directories=[ROOT / "static"], name="static",
                                       include_in_schema=False),
        ],
        middleware=[UnreadableFormMiddleware,
                    DefineMiddleware(SessionAuthMiddleware, exclude=["^/static/", "^/healthz"])],
        before_send=[security_headers],
        csrf_config=csrf_config(),
        # Each file is checked against the per-file limit as it streams in; the whole form may hold several.
        request_max_body_size=limits().max_bytes * 4 + 1_000_000,
        template_config=template_config(),
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=[start_pool, start_jobs, settle_heap],
        on_shutdown=[stop_jobs, close_pool, shutdown_pool],
        openapi_config=None,
        logging_config=LoggingConfig(log_exceptions="debug" if settings.debug else "never",
                                     loggers={"yiwang": {"level": "INFO", "handlers": ["queue_listener"],
                                                           "propagate": False}}),
        debug=settings.debug,
    )


def create_served_app() -> Litestar | AccessLog:
    """What `python -m app serve` runs: the app, inside the access log unless YIWANG_ACCESS_LOG=false."""
    app = create_app()
    return AccessLog(app) if get_settings().access_log else app
