"""The single Piccolo app: every domain's tables, one migrations folder shared by SQLite and PostgreSQL."""

from piccolo.conf.apps import AppConfig

from app.accounts.tables import OfficerRole, User, WebSession
from app.audit.tables import AuditEvent, DataAccess
from app.bundles.tables import Bundle, BundleCase, Payment
from app.catalog.tables import (
    CertificateType,
    MaterialType,
    SearchGram,
    SearchSynonym,
    ServiceItem,
    ServiceItemEvent,
    ServiceItemVersion,
)
from app.certificates.tables import Certificate, CertificateCounter
from app.filings.tables import Case, CaseMaterial, CaseStep, Material, ProxyConsent
from app.lifelong.tables import AccessDispute, EnterpriseMember, Todo
from app.notify.tables import Notification, OutboxMessage
from app.registry.tables import Department, GuardianLink, LegalEntity, Person
from app.settings import ROOT
from app.supervision.tables import (
    CaseCard,
    CaseRollup,
    Complaint,
    ComplaintStep,
    Rating,
    Rectification,
    RectificationStep,
)
from app.workdays.tables import CalendarDay

TABLES = [
    Department,
    Person,
    GuardianLink,
    LegalEntity,
    User,
    OfficerRole,
    WebSession,
    EnterpriseMember,
    AuditEvent,
    Notification,
    MaterialType,
    CertificateType,
    ServiceItem,
    ServiceItemEvent,
    ServiceItemVersion,
    SearchGram,
    SearchSynonym,
    DataAccess,
    OutboxMessage,
    CalendarDay,
    ProxyConsent,
    Case,
    CaseStep,
    Material,
    CaseMaterial,
    Certificate,
    CertificateCounter,
    Bundle,
    BundleCase,
    Payment,
    Todo,
    AccessDispute,
    Rating,
    Rectification,
    RectificationStep,
    Complaint,
    ComplaintStep,
    CaseCard,
    CaseRollup,
]

APP_CONFIG = AppConfig(
    app_name="yiwang",
    migrations_folder_path=str(ROOT / "migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
