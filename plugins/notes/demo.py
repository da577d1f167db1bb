"""Demo data: categories, notes (some mentioning colleagues), tasks (some overdue, some
done) and follows on the demo customers, plus a few general notes; and the inbox rows that
data implies (a notification per mention and per task assigned to someone else), so that
demo inboxes are not empty.

Seeding runs outside any GraphQL operation (there is no viewer, no broker), so the rows are
written in bulk here, with the messages, subjects and links ``dispatch`` would give them;
nothing is published (no client is connected while the demo is created)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from fiche.accounts import models as accounts
from fiche.db import utcnow
from fiche.notifications import models as inbox
from fiche.plugins.notes import dispatch, models, services

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.demo import DemoContext

__all__ = ["seed_demo"]

CATEGORIES = (("Visite", "#1e88e5"), ("Relance", "#fb8c00"), ("Mise en place de compte", "#43a047"))
NOTES = (
    "Client satisfait de la dernière livraison, souhaite être recontacté au prochain trimestre.",
    "Préfère l'e-mail aux appels téléphoniques.",
    "Blocage crédit jusqu'au paiement de la facture en retard.",
    "Le décisionnaire est en congés jusqu'à la fin du mois.",
    "Rencontré au salon professionnel de Lyon : intéressé par la nouvelle gamme.",
    "Exige un numéro de bon de commande sur toutes les commandes.",
    "Livraisons uniquement le matin, quai n° 2.",
    "@{handle} peux-tu vérifier le tarif négocié l'an dernier ?",
    "@{handle} merci de faire le suivi sur le problème de paiement.",
    "@{handle} pour info, le client ouvre un nouvel établissement au deuxième trimestre.",
)
TASKS = (
    ("Rappeler pour confirmer le rendez-vous.", "Relance"),
    ("Envoyer le devis révisé.", "Relance"),
    ("Relancer la facture impayée.", "Relance"),
    ("Préparer la visite de présentation de la gamme.", "Visite"),
    ("Créer le compte client sur le portail.", "Mise en place de compte"),
    ("Planifier la formation de l'équipe du client.", "Mise en place de compte"),
)
GENERAL = (
    "Réunion commerciale lundi à 9 h : @{handle} prépare les chiffres du mois.",
    "Nouveau catalogue disponible sur l'intranet.",
)


async def seed_demo(demo: DemoContext) -> None:
    session, rng = demo.session, demo.rng
    now = utcnow()
    users = list(demo.users)
    handles = {user.handle: user.id for user in users}
    categories = {name: models.NoteCategory(name=name, color=color) for name, color in CATEGORIES}
    session.add_all(categories.values())
    await session.flush()
    memberships = (await session.execute(select(accounts.TeamMembership.user_id, accounts.TeamMembership.team_id))).all()
    team_of = {user_id: team_id for user_id, team_id in memberships}

    def add(body: str, author: accounts.User, created: dt.datetime, customer_id: int | None, **task: object) -> None:
        restricted = rng.random() < 0.15 and "@" not in body and author.id in team_of
        note = models.Note(
            body=body,
            author_id=author.id,
            created_by_id=author.id,
            created_at=created,
            updated_at=created,
            category_id=categories[str(task.pop("category"))].id if "category" in task else None,
            visibility=models.Visibility.TEAM if restricted else models.Visibility.ORGANIZATION,
            team_id=team_of[author.id] if restricted else None,
            target_type="Customer" if customer_id is not None else None,
            target_id=customer_id,
            customer_id=customer_id,
            **task,
        )
        session.add(note)
        pending.append(note)

    pending: list[models.Note] = []
    customer_ids = list(demo.shared.get("customer_ids", []))
    for index, customer_id in enumerate(customer_ids):
        # The first customers get a full page of notes (the heavy bench query reads 10 each).
        for n in range(12 if index < 50 else 1 + index % 3):
            author = rng.choice(users)
            others = [user.handle for user in users if user.id != author.id]
            body = NOTES[(index + n) % len(NOTES)].format(handle=rng.choice(others))
            category = (None, "Visite", "Relance")[(index + n) % 3]
            extra = {"category": category} if category else {}
            add(body, author, now - dt.timedelta(days=rng.randint(0, 90), minutes=rng.randint(0, 600)), customer_id, **extra)
        if index % 2 == 0:
            # Every third task is overdue, every third done, the rest due later.
            state = (index // 2) % 3
            body, category = TASKS[(index // 2) % len(TASKS)]
            author, assignee = rng.choice(users), rng.choice(users)
            created = now - dt.timedelta(days=rng.randint(5, 30))
            due = now - dt.timedelta(days=rng.randint(1, 4)) if state != 2 else now + dt.timedelta(days=rng.randint(1, 20))
            add(
                body,
                author,
                created,
                customer_id,
                category=category,
                is_task=True,
                assignee_id=assignee.id,
                due_at=due,
                completed_at=due if state == 1 else None,
                completed_by_id=assignee.id if state == 1 else None,
            )
    for template in GENERAL:
        author = rng.choice(users)
        add(
            template.format(handle=rng.choice([u.handle for u in users if u.id != author.id])),
            author,
            now - dt.timedelta(days=1),
            None,
        )
    if len(users) > 1:
        add(
            "Préparer la réunion commerciale.",
            users[0],
            now - dt.timedelta(days=2),
            None,
            is_task=True,
            assignee_id=users[1].id,
            due_at=now + dt.timedelta(days=3),
        )
    await session.flush()
    for note in pending:
        for mention in services.resolve_mentions(services.find_mention_candidates(note.body), handles):
            session.add(models.NoteMention(note_id=note.id, user_id=mention.user_id, start=mention.start, stop=mention.stop))
    for user in users:
        for customer_id in rng.sample(customer_ids, min(len(customer_ids), rng.randint(2, 5))):
            session.add(models.CustomerFollow(customer_id=customer_id, user_id=user.id))
    await session.flush()
    await _seed_inboxes(session, demo.organization.id, users, pending, handles)


async def _seed_inboxes(
    session: AsyncSession, organization_id: int, users: list[accounts.User], notes: list[models.Note], handles: dict[str, int]
) -> None:
    """The notifications the demo notes imply, oldest first in each inbox: the mentioned
    colleagues (never the author) and the assignee of a task written by someone else.
    Restricted demo notes mention nobody, so every recipient may read what they are told of."""
    names = {user.id: user.name for user in users}
    rows: list[dict[str, Any]] = []
    for note in sorted(notes, key=lambda note: (note.created_at, note.id)):
        what = "task" if note.is_task else "note"
        target, subject, link = dispatch.addresses(note)
        quote = services.excerpt(note.body)
        told: set[int] = set()
        if note.is_task and note.assignee_id is not None and note.assignee_id != note.author_id:
            told.add(note.assignee_id)
            rows.append(_row(note, note.assignee_id, services.TASK_ASSIGNED, f"{names[note.author_id or 0]} assigned you a task: “{quote}”", target, subject, link))
        for mention in services.resolve_mentions(services.find_mention_candidates(note.body), handles):
            if mention.user_id not in told and mention.user_id != note.author_id:
                told.add(mention.user_id)
                message = f"{names[note.author_id or 0]} mentioned you in a {what}: “{quote}”"
                rows.append(_row(note, mention.user_id, services.MENTION, message, target, subject, link))
    seq: dict[int, int] = {}
    for row in rows:
        seq[row["recipient_id"]] = row["recipient_seq"] = seq.get(row["recipient_id"], 0) + 1
        row["organization_id"] = organization_id
    if rows:
        await session.execute(insert(inbox.Notification), rows)
        await session.execute(
            insert(inbox.NotificationCounter), [{"organization_id": organization_id, "user_id": user_id, "seq": last} for user_id, last in seq.items()]
        )


def _row(note: models.Note, recipient: int, kind: str, message: str, target: str | None, subject: str, link: str) -> dict[str, Any]:
    return {
        "recipient_id": recipient, "kind": kind, "actor_id": note.author_id, "target_id": target, "subject_id": subject,
        "message": message, "link": link, "created_at": note.created_at, "read_at": None,
    }  # fmt: skip
