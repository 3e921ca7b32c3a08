"""Certificate tables: the certificates issued, and the per-type, per-year number counters."""

from piccolo.columns import JSON, BigInt, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.accounts.tables import User
from app.catalog.tables import CertificateType
from app.filings.tables import Case, Material
from app.registry.tables import Department, LegalEntity, Person


class Certificate(Table):
    """One electronic certificate. The PDF is rendered and signed once; its SHA-256 is what verification
    compares an uploaded file with. The library material of the same file lets it stand in for uploads."""

    cert_no = Varchar(length=32, unique=True)
    certificate_type = ForeignKey(CertificateType, index=True)
    case = ForeignKey(Case, index=True)
    # Indexed with the columns a personal page lists (a later migration's certificate_holder_page).
    holder_person = ForeignKey(Person, null=True)
    holder_entity = ForeignKey(LegalEntity, null=True, index=True)
    holder_name = Varchar(length=120)
    department = ForeignKey(Department, index=True)
    fields = JSON(default="[]")  # [[label, value], …] as printed
    issued_on = Date()
    valid_until = Date(null=True, default=None, index=True)
    state = Varchar(length=16, default="issued")  # issued | revoked
    revoked_at = Timestamptz(null=True, default=None)
    revoked_reason = Text(default="")
    revoked_by = ForeignKey(User, null=True)
    pdf_sha256 = Varchar(length=64, default="", index=True)
    pdf_size = BigInt(default=0)
    material = ForeignKey(Material, null=True)
    expiry_notified_at = Timestamptz(null=True, default=None)  # the holder was told it expired
    created_at = Timestamptz()


class CertificateCounter(Table):
    """The last number given for a certificate type in a year (numbers have no gaps and never repeat)."""

    certificate_type = ForeignKey(CertificateType)
    year = Integer()
    last = Integer(default=0)
