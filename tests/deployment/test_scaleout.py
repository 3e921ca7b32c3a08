"""The scale-out deployment over HTTP through nginx: the citizen journey with every file in the S3-compatible store,
requests answered by both server workers; rate limits that hold across workers and rest on the client's address
as nginx saw it; the scheduled jobs run from two queue workers, each once per period."""

from __future__ import annotations

import hashlib
import io
import re
import time
import zipfile
from collections import Counter

import boto3
import httpx

from tests import factories
from tests.deployment.conftest import BUCKET, Deployment
from tests.filing_fixture import ITEM, PDF_BYTES, VALID_FORM, png_bytes
from tests.servers import S3_KEYS

PASSWORD = "Yiwang-deploy-2026!"


def post(client: httpx.Client, url: str, data: dict[str, str] | None = None, **kw) -> httpx.Response:
    if not client.cookies.get("yw_csrf"):
        client.get("/login")
    return client.post(url, data={**(data or {}), "_csrf_token": client.cookies.get("yw_csrf", "")}, **kw)


def login(client: httpx.Client, mobile: str, password: str = factories.PASSWORD) -> None:
    assert post(client, "/login", {"mobile": mobile, "password": password}).status_code == 303


def register(client: httpx.Client, mobile: str, name: str) -> None:
    registered = post(client, "/register", {"mobile": mobile, "display_name": name, "password": PASSWORD,
                                            "password_confirm": PASSWORD})
    assert registered.status_code == 303, registered.text
    login(client, mobile, PASSWORD)


def officer_act(client: httpx.Client, case_no: str, action: str) -> None:
    page = client.get(f"/office/cases/{case_no}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    acted = post(client, f"/office/cases/{case_no}/act", {"action": action, "opinion": "同意", "version": version})
    assert acted.status_code == 303, acted.text


def test_the_citizen_journey_through_nginx_on_two_workers(deployment: Deployment) -> None:
    seed = deployment.seed
    citizen = deployment.client()
    register(citizen, "13712340001", "林女士")
    activated = post(citizen, "/activate", {"id_number": seed["id_number"], "ssc_number": seed["ssc_number"]})
    assert activated.status_code == 303 and activated.headers["location"] == "/me"
    assert seed["name"] in citizen.get("/me").text

    page = citizen.get(f"/services/{ITEM}/apply")
    key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
    form = {**VALID_FORM, "name": seed["name"], "id_number": seed["id_number"], "key": key, "action": "submit"}
    files = {"file_id_card": ("身份证.png", png_bytes(), "image/png"),
             "file_proof": ("证明.pdf", PDF_BYTES, "application/pdf")}
    submitted = post(citizen, f"/services/{ITEM}/apply", form, files=files)
    assert submitted.status_code == 303, submitted.text
    case_no = re.search(r"/cases/(\d+)", submitted.headers["location"]).group(1)

    for role, action in (("clerk", "accept"), ("reviewer", "review"), ("approver", "approve")):
        officer = deployment.client()
        login(officer, seed[role])
        officer_act(officer, case_no, action)

    wallet = citizen.get("/me/certificates").text
    cert_no = re.search(r'href="/certificates/(\d+)\.pdf"', wallet).group(1)
    pdf = citizen.get(f"/certificates/{cert_no}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    s3 = boto3.client("s3", endpoint_url=deployment.s3_endpoint, region_name=S3_KEYS["YIWANG_S3_REGION"],
                      aws_access_key_id=S3_KEYS["YIWANG_S3_ACCESS_KEY"],
                      aws_secret_access_key=S3_KEYS["YIWANG_S3_SECRET_KEY"])
    stored = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {hashlib.sha256(d).hexdigest() for d in (pdf.content, png_bytes(), PDF_BYTES)} == stored
    assert not (deployment.folder / "var" / "materials").exists()
    with zipfile.ZipFile(io.BytesIO(citizen.get("/me/export").content)) as export:
        assert export.read(f"certificates/{cert_no}.pdf") == pdf.content

    verifier = deployment.client()
    verifier.get("/verify")
    checked = post(verifier, "/verify", files={"file": ("证照.pdf", pdf.content, "application/pdf")})
    assert "未经改动的原件" in checked.text and cert_no in checked.text

    requests = deployment.server_log.new_requests()
    assert len({r.pid for r in requests}) == 2, Counter(r.pid for r in requests)  # both workers served the journey
    assert {r.client for r in requests} == {"127.0.0.2"}  # the client's address, passed on by nginx
    rows = deployment.query("SELECT DISTINCT ip FROM audit_event WHERE action IN ('account.register', 'login.ok', "
                            "'page.activate', 'case.submit', 'certificate.download', 'certificate.check_file')")
    assert rows == [{"ip": "127.0.0.2"}]


def refused_after_failures(deployment: Deployment, attempt, limit: int, subjects: list) -> httpx.Response:
    """Fail `limit` times (the failures answered by both workers), then try once more: the refusal. A new subject
    whenever the failures happened to land on one worker only."""
    for subject in subjects:
        deployment.server_log.skip()
        for _ in range(limit):
            assert attempt(subject).status_code == 422
        pids = {r.pid for r in deployment.server_log.wait_for(limit, "POST")}
        if len(pids) == 2:
            return attempt(subject)
    raise AssertionError(f"{len(subjects)} rounds of {limit} failures each landed on one worker only")


def test_rate_limits_hold_across_both_workers(deployment: Deployment) -> None:
    client = deployment.client("127.0.0.3")
    locked = refused_after_failures(
        deployment, lambda mobile: post(client, "/login", {"mobile": mobile, "password": "wrong-password"}), 5,
        [f"1371234100{n}" for n in range(6)])
    assert locked.status_code == 429 and "登录失败次数过多" in locked.text

    tracker = deployment.client("127.0.0.4")
    refused = refused_after_failures(
        deployment, lambda _round: post(tracker, "/track", {"case_no": "2026000000000000", "query_code": "WRONG1"}),
        10, list(range(6)))
    assert refused.status_code == 429 and "错误次数过多" in refused.text
    # Per client address as nginx saw it: a client sending its own X-Forwarded-For is not believed …
    spoofed = post(tracker, "/track", {"case_no": "2026000000000000", "query_code": "WRONG1"},
                   headers={"X-Forwarded-For": "203.0.113.9"})
    assert spoofed.status_code == 429
    # … and another address is not held back.
    other = post(deployment.client("127.0.0.5"), "/track", {"case_no": "2026000000000000", "query_code": "WRONG1"})
    assert other.status_code == 422

    def activate(user: httpx.Client) -> httpx.Response:
        return post(user, "/activate", {"id_number": deployment.seed["id_number"], "ssc_number": "Z99999999"})

    users = []
    for n in range(6):
        user = deployment.client("127.0.0.6")
        register(user, f"1371234200{n}", "测试")
        users.append(user)
    refused = refused_after_failures(deployment, activate, 10, users)
    assert refused.status_code == 429 and "尝试失败次数过多" in refused.text


def test_scheduled_jobs_run_from_the_queue_once_per_period(deployment: Deployment) -> None:
    time.sleep(5)  # a few periods of two seconds
    runs: Counter[tuple[str, str]] = Counter()
    workers_ran = set()
    for n, log in enumerate(deployment.queue_logs):
        for name, period in re.findall(r"yiwang\.jobs: job (\S+) for (\d+) ", log.read_text()):
            runs[name, period] += 1
            workers_ran.add(n)
    assert runs and max(runs.values()) == 1, runs  # two workers, yet each job once per period
    assert workers_ran == {0, 1}  # and both took jobs from the queue
    periods = {name: sorted(int(p) for n, p in runs if n == name) for name, _ in runs}
    assert set(periods) == {"certificates.expired", "lifelong.reminders", "supervision.cards"}
    for name, stamps in periods.items():
        assert len(stamps) >= 3, (name, stamps)
    assert deployment.query("SELECT status, count(*) AS n FROM procrastinate_jobs GROUP BY status") in (
        [], [{"status": "doing", "n": 1}], [{"status": "todo", "n": 1}])  # done ones are not kept
