"""Page rules: activating personal and enterprise pages, enterprise members, guardians and children."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from app.accounts.sessions import CurrentUser
from app.accounts.tables import User
from app.audit.services import count_since, record, record_alone
from app.db import utcnow, write_tx
from app.errors import DomainError, FieldErrors, Forbidden, NotFound, RateLimited
from app.i18n import N_, _, fmt_date
from app.lifelong.tables import EnterpriseMember
from app.notify.services import notify
from app.registry.tables import GuardianLink, LegalEntity, Person
from app.registry.validators import check_id_number, check_ssc_number, check_uscc
from app.workdays.calendar import local_today

ADULT_AGE = 18
ACTIVATION_MAX_FAILURES = 10
ACTIVATION_WINDOW = timedelta(hours=1)
AGENT_SCOPES = ("all", "filing", "view")
AGENT_MAX_YEARS = 3

# Notification texts (translated when sent); the demo seeder sends the same ones.
PAGE_ACTIVATED = (N_("Your personal page is activated"),
                  N_("From now on, what you file and the certificates you are issued gather here by themselves."))
ENTERPRISE_ACTIVATED = (N_("The enterprise page of %(name)s is activated"),
                        N_("You can now authorise agents to handle the enterprise's matters."))
AGENT_GRANTED = (N_("You are authorised as an agent of %(name)s"),
                 N_("The legal representative authorised you until %(date)s."))
AGENT_REVOKED = (N_("Your authorisation for %(name)s has been revoked"),
                 N_("The legal representative revoked your authorisation as an agent."))


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


async def _activation_failed(user: CurrentUser, action: str, ip: str, **detail: Any) -> None:
    await record_alone(action, outcome="failed", actor_id=user.id, subject_type="user", subject_key=str(user.id),
                       ip=ip, **detail)


async def _check_activation_rate(user: CurrentUser, action: str) -> None:
    failures = await count_since(action, utcnow() - ACTIVATION_WINDOW, subject_key=str(user.id))
    if failures >= ACTIVATION_MAX_FAILURES:
        raise RateLimited(_("Too many failed attempts; please try again in an hour or visit a service window."))


async def activate_personal_page(user: CurrentUser, id_number: str, ssc_number: str, *, ip: str,
                                 today: date | None = None) -> None:
    """Bind the account to the registry person whose ID and social security card numbers both match; a minor
    may from the 18th birthday (Beijing time) on."""
    if user.is_activated:
        raise DomainError(_("Your personal page is already activated."))
    await _check_activation_rate(user, "page.activate")
    errors = FieldErrors()
    number = errors.check(check_id_number, id_number)
    card = errors.check(check_ssc_number, ssc_number)
    errors.raise_if_any()
    person = await Person.objects().where(Person.id_number == number).first()
    if person is None or person.ssc_number != card:
        await _activation_failed(user, "page.activate", ip, reason="no match")
        raise DomainError(
            _("The ID number and social security card number do not match any resident in the registry."),
            "ssc_number",
        )
    if age_on(person.birth_date, today or local_today()) < ADULT_AGE:
        await _activation_failed(user, "page.activate", ip, reason="minor")
        raise DomainError(_("A minor's page is run by the guardian until the age of 18."), "id_number")
    if await User.exists().where(User.person == person.id):
        await _activation_failed(user, "page.activate", ip, reason="identity already bound", person=person.id)
        raise DomainError(
            _("This identity is already bound to another account; one identity has one account."), "id_number"
        )
    async with write_tx():
        await User.update(
            {User.person: person.id, User.activated_at: utcnow(), User.display_name: person.name}
        ).where(User.id == user.id)
        await record("page.activate", actor_id=user.id, subject_type="person", subject_key=str(person.id), ip=ip)
        await notify(user.id, _(PAGE_ACTIVATED[0]), _(PAGE_ACTIVATED[1]), "/me")


async def person_of(user: CurrentUser) -> Person | None:
    if user.person_id is None:
        return None
    return await Person.objects().where(Person.id == user.person_id).first()


async def children_of(person_id: int, today: date | None = None) -> list[dict[str, Any]]:
    """The guardian's children still under 18 (the ones whose pages the guardian runs)."""
    today = today or local_today()
    rows = await GuardianLink.select(
        GuardianLink.relation,
        GuardianLink.child.id.as_alias("id"),
        GuardianLink.child.name.as_alias("name"),
        GuardianLink.child.birth_date.as_alias("birth_date"),
        GuardianLink.child.sex.as_alias("sex"),
    ).where(GuardianLink.guardian == person_id).order_by(GuardianLink.child.birth_date)
    return [r for r in rows if age_on(r["birth_date"], today) < ADULT_AGE]


def coming_of_age(birth_date: date) -> date:
    """The 18th birthday (1 March for one born on 29 February, as `age_on` counts it)."""
    try:
        return birth_date.replace(year=birth_date.year + ADULT_AGE)
    except ValueError:
        return date(birth_date.year + ADULT_AGE, 3, 1)


class ComeOfAge(DomainError):
    """The child has turned 18: the page has passed to them and the guardian's access has ended. A 404 as for
    anyone else's page, with the reason the former guardian needs."""

    status_code = 404


@dataclass(frozen=True)
class ChildPage:
    """A minor's page as the guardian sees it; `linkable` rows are cases the guardian filed (they may open them)."""

    child: Person
    age: int
    guardians: list[dict[str, Any]]
    cases: list[dict[str, Any]]
    certificates: list[dict[str, Any]]
    todos: list[dict[str, Any]]


async def child_page(user: CurrentUser, child_id: int, *, ip: str, today: date | None = None) -> ChildPage:
    """A child's page for its guardian until the day before the 18th birthday. On the birthday the former
    guardian is told the page has passed to the child (ComeOfAge); anyone else gets NotFound. Both audited."""
    today = today or local_today()
    link = None
    if user.person_id is not None and not user.is_officer:
        link = await GuardianLink.objects().where(
            GuardianLink.guardian == user.person_id, GuardianLink.child == child_id
        ).first()
    child = await Person.objects().where(Person.id == child_id).first() if link else None
    if child is None:
        await record_alone("access.denied", outcome="denied", actor_id=user.id, subject_type="person",
                           subject_key=str(child_id), ip=ip, reason="not a guardian of this minor")
        raise NotFound()
    age = age_on(child.birth_date, today)
    if age >= ADULT_AGE:
        await record_alone("access.denied", outcome="denied", actor_id=user.id, subject_type="person",
                           subject_key=str(child_id), ip=ip, reason="child is of age")
        raise ComeOfAge(_("%(name)s turned 18 on %(date)s. The page has passed to them, and guardians no longer "
                          "see it.", name=child.name, date=fmt_date(coming_of_age(child.birth_date))))
    from app.lifelong import enterprise  # the holder lists; that module builds on this one

    guardians = await GuardianLink.select(
        GuardianLink.relation, GuardianLink.guardian.name.as_alias("name")
    ).where(GuardianLink.child == child_id)
    cases = await enterprise.cases_of_holder(person_id=child.id, today=today)
    certs = await enterprise.certificates_of_person(child.id, today)
    return ChildPage(
        child=child, age=age, guardians=guardians,
        cases=[{**c, "linkable": c["applicant"] == user.id} for c in cases],
        certificates=[{**c, "linkable": c["applicant"] == user.id} for c in certs],
        todos=await enterprise.open_todos(person_id=child.id),
    )


@dataclass(frozen=True)
class Membership:
    entity: LegalEntity
    role: str
    member_id: int


async def enterprises_of(user: CurrentUser) -> list[dict[str, Any]]:
    today = local_today()
    rows = await EnterpriseMember.select(
        EnterpriseMember.role,
        EnterpriseMember.expires_on,
        EnterpriseMember.entity.uscc.as_alias("uscc"),
        EnterpriseMember.entity.name.as_alias("name"),
    ).where(EnterpriseMember.user == user.id, EnterpriseMember.revoked_at.is_null())
    return [r for r in rows if r["expires_on"] is None or r["expires_on"] >= today]


async def membership(user: CurrentUser, uscc: str, *, ip: str) -> Membership:
    """The user's current role on the enterprise page; NotFound (audited) for everyone else."""
    entity = await LegalEntity.objects().where(LegalEntity.uscc == uscc.upper()).first()
    member = None
    if entity is not None:
        member = await EnterpriseMember.objects().where(
            EnterpriseMember.entity == entity.id,
            EnterpriseMember.user == user.id,
            EnterpriseMember.revoked_at.is_null(),
        ).first()
    if entity is None or member is None or (member.expires_on is not None and member.expires_on < local_today()):
        await record_alone("access.denied", outcome="denied", actor_id=user.id, subject_type="enterprise",
                           subject_key=uscc[:64], ip=ip, reason="not a member")
        raise NotFound()
    return Membership(entity=entity, role=member.role, member_id=member.id)


async def activate_enterprise_page(user: CurrentUser, uscc: str, *, ip: str) -> str:
    """Open the enterprise page: only the legal representative recorded in the registry may."""
    if not user.is_activated:
        raise DomainError(_("Please activate your personal page first."), "uscc")
    await _check_activation_rate(user, "enterprise.activate")
    code = check_uscc(uscc)
    entity = await LegalEntity.objects().where(LegalEntity.uscc == code).first()
    if entity is None:
        await _activation_failed(user, "enterprise.activate", ip, uscc=code, reason="unknown")
        raise DomainError(_("No legal entity with this code is in the registry."), "uscc")
    if entity.legal_rep != user.person_id:
        await _activation_failed(user, "enterprise.activate", ip, uscc=code, reason="not legal rep")
        raise DomainError(
            _("Only the legal representative recorded in the registry can activate this enterprise page."), "uscc"
        )
    async with write_tx():
        exists = await EnterpriseMember.exists().where(
            EnterpriseMember.entity == entity.id,
            EnterpriseMember.user == user.id,
            EnterpriseMember.role == "legal_rep",
            EnterpriseMember.revoked_at.is_null(),
        )
        if not exists:
            await EnterpriseMember.insert(
                EnterpriseMember(entity=entity.id, user=user.id, role="legal_rep", granted_by=None,
                                 created_at=utcnow())
            )
            await record("enterprise.activate", actor_id=user.id, subject_type="enterprise", subject_key=code, ip=ip)
            await notify(user.id, _(ENTERPRISE_ACTIVATED[0], name=entity.name), _(ENTERPRISE_ACTIVATED[1]),
                         f"/enterprise/{code}")
    return code


async def members_of(entity_id: int) -> list[dict[str, Any]]:
    return await EnterpriseMember.select(
        EnterpriseMember.id,
        EnterpriseMember.role,
        EnterpriseMember.scope,
        EnterpriseMember.expires_on,
        EnterpriseMember.created_at,
        EnterpriseMember.user.display_name.as_alias("name"),
        EnterpriseMember.user.person.id_number.as_alias("id_number"),
    ).where(EnterpriseMember.entity == entity_id, EnterpriseMember.revoked_at.is_null()).order_by(
        EnterpriseMember.created_at
    )


@dataclass(frozen=True)
class AgentGrant:
    id_number: str
    scope: str
    expires_on: str


async def _require_legal_rep(user: CurrentUser, member: Membership, ip: str) -> None:
    if member.role != "legal_rep":
        await record_alone("access.denied", outcome="denied", actor_id=user.id, subject_type="enterprise",
                           subject_key=member.entity.uscc, ip=ip, reason="agents cannot manage members")
        raise Forbidden()


async def grant_agent(user: CurrentUser, member: Membership, form: AgentGrant, *, ip: str) -> None:
    """The legal representative authorises an activated citizen as an agent until a date."""
    await _require_legal_rep(user, member, ip)
    errors = FieldErrors()
    number = errors.check(check_id_number, form.id_number)
    if form.scope not in AGENT_SCOPES:
        errors.add("scope", _("Please choose what the agent may do."))
    today = utcnow().date()
    expires_on = None
    try:
        expires_on = date.fromisoformat(form.expires_on)
    except ValueError:
        errors.add("expires_on", _("Please enter the date the authorisation ends."))
    if expires_on is not None and not today < expires_on <= today.replace(year=today.year + AGENT_MAX_YEARS):
        errors.add("expires_on", _("The end date must be after today and within %(n)s years.", n=AGENT_MAX_YEARS))
    errors.raise_if_any()
    agent = await User.objects().where(User.person.id_number == number).first()
    if agent is None:
        raise DomainError(_("No activated personal page has this ID number; the agent must activate first."),
                          "id_number")
    if agent.id == user.id:
        raise DomainError(_("You are already the legal representative."), "id_number")
    async with write_tx():
        if await EnterpriseMember.exists().where(
            EnterpriseMember.entity == member.entity.id,
            EnterpriseMember.user == agent.id,
            EnterpriseMember.revoked_at.is_null(),
        ):
            raise DomainError(_("This person is already an agent of the enterprise."), "id_number")
        await EnterpriseMember.insert(
            EnterpriseMember(entity=member.entity.id, user=agent.id, role="agent", scope=form.scope,
                             expires_on=expires_on, granted_by=user.id, created_at=utcnow())
        )
        await record("enterprise.grant", actor_id=user.id, subject_type="enterprise", subject_key=member.entity.uscc,
                     ip=ip, agent_user=agent.id, scope=form.scope, expires_on=expires_on)
        await notify(agent.id, _(AGENT_GRANTED[0], name=member.entity.name),
                     _(AGENT_GRANTED[1], date=expires_on.isoformat()), f"/enterprise/{member.entity.uscc}")


async def revoke_agent(user: CurrentUser, member: Membership, member_id: int, *, ip: str) -> None:
    await _require_legal_rep(user, member, ip)
    async with write_tx():
        target = await EnterpriseMember.objects().where(
            EnterpriseMember.id == member_id,
            EnterpriseMember.entity == member.entity.id,
            EnterpriseMember.role == "agent",
            EnterpriseMember.revoked_at.is_null(),
        ).first()
        if target is None:
            raise NotFound()
        await EnterpriseMember.update({EnterpriseMember.revoked_at: utcnow()}).where(
            EnterpriseMember.id == member_id
        )
        await record("enterprise.revoke", actor_id=user.id, subject_type="enterprise",
                     subject_key=member.entity.uscc, ip=ip, agent_user=target.user)
        await notify(target.user, _(AGENT_REVOKED[0], name=member.entity.name), _(AGENT_REVOKED[1]))
