"""Demo content: three users, a few channels with real-looking threads, spaces and articles."""

from __future__ import annotations

from sqlalchemy import func, select

from cairn.auth import actions as auth
from cairn.auth.models import User
from cairn.curation.candidates import score_candidates
from cairn.extensions import db
from cairn.kb import actions as kb
from cairn.stream import actions as stream, signals

DEMO_USERS = [
    ("admin@example.com", "admin-pass-2026", "admin", "Ada Admin"),
    ("curator@example.com", "curator-pass-2026", "curator", "Carla Curator"),
    ("member@example.com", "member-pass-2026", "member", "Milo Member"),
]

# (channel, topic, private, threads); a thread is (author index, text, [(author index, reply)])
CHANNELS = [
    ("general", "Company-wide announcements and questions", False, [
        (0, ("Welcome to Cairn! Ask questions in the open channels: good answers get promoted "
             "to the knowledge base so nobody has to ask twice. #onboarding"), [
            (2, "Thanks! Where do I find the expense policy?"),
            (1, "It's in the *People & Policies* space: search for `expenses` or ask here."),
        ]),
        (1, "Reminder: the office is closed on Friday for the winter shutdown. Support rota is in #it-help.", []),
        (2, "Does anyone know how to book the big meeting room on the 3rd floor?", [
            (1, ("Use the room calendar in your mail client: the room is called **Summit**. "
                 "Bookings longer than 2 hours need facilities' OK.")),
            (2, "Found it, thanks 🙏"),
        ]),
    ]),
    ("engineering", "Builds, deploys, code review", False, [
        (2, "How do I get access to the staging database? `psql` says *password authentication failed*.", [
            (1, ("Staging uses short-lived credentials. Run `vault login` and then "
                 "`vault read database/creds/staging-ro`; the user and password it prints are valid for 8 hours.")),
            (0, "And if `vault login` fails, ask in #it-help to be added to the `eng-staging` group."),
            (2, "That worked, thanks! The creds expire after 8h, right?"),
            (1, "Yes. Rerun the `vault read` when they expire."),
        ]),
        (1, ("PSA: CI now caches pip wheels between runs. Builds went from 11 to 4 minutes. "
             "If you see a stale dependency, bump `CACHE_VERSION` in the workflow. #ci"), [
            (2, "Nice! Does that apply to the nightly job too?"),
            (1, "Yes, every workflow that uses the shared setup action."),
        ]),
        (2, "What's our rule for merging on Fridays?", [
            (0, ("Merging is fine; **deploying** to production after 15:00 on Friday needs an on-call ack. "
                 "The deploy bot will ask for it.")),
        ]),
        (0, "How do we roll back a bad deploy?", [
            (1, ("Run `deploy rollback --to previous` from the release channel, or click *Rollback* on the "
                 "release page. It redeploys the last green build in about 3 minutes. Then open an incident "
                 "ticket so we do the post-mortem.")),
            (2, "Good to know, saving this."),
        ]),
        (2, "Code review etiquette question: is it OK to approve with nits?", [
            (1, "Yes: approve and prefix nits with `nit:` so the author knows they are optional."),
        ]),
    ]),
    ("it-help", "Laptops, accounts, VPN", False, [
        (2, "My VPN disconnects every 10 minutes on the office Wi-Fi. Anyone else?", [
            (0, ("Switch the VPN client to TCP mode (Settings → Protocol → TCP). The office Wi-Fi drops "
                 "idle UDP sessions after 600 seconds.")),
            (2, "TCP mode fixed it. Thanks!"),
        ]),
        (1, "How do I reset my SSO password when I'm locked out?", [
            (0, ("Go to the self-service portal from your phone, choose *Forgot password*, and confirm "
                 "with your second factor. If your second factor is lost too, call the service desk.")),
        ]),
        (2, "Is there a way to get a second monitor for home office?", [
            (0, "Yes, request it in the equipment form; approval by your manager, delivery within a week."),
        ]),
    ]),
    ("random", "Anything goes", False, [
        (2, "Lunch recommendations near the office? 🍜", [
            (1, "The ramen place on the corner. Go before 12:00 or queue for 20 minutes."),
        ]),
        (0, "Book club this month: *The Mythical Man-Month*. Discussion next Thursday.", []),
    ]),
    ("leadership", "Private: leads only", True, [
        (0, "Draft budget for next year is in the shared drive. Please review before Monday.", [
            (1, "Reviewed; two comments on the travel line."),
        ]),
    ]),
]

SPACES = [
    ("Engineering Handbook", "How we build, ship and run software.", None, [
        ("How to get staging database credentials",
         ("Staging uses short-lived credentials from Vault.\n\n1. `vault login`\n"
          "2. `vault read database/creds/staging-ro`\n\nThe credentials are valid for 8 hours. "
          "If `vault login` fails, ask to be added to the `eng-staging` group."),
         ["staging", "database", "vault"], "published"),
        ("Rolling back a deploy",
         ("Run `deploy rollback --to previous` or press **Rollback** on the release page. The previous green "
          "build is redeployed in about three minutes. Open an incident ticket afterwards."),
         ["deploy", "incident"], "published"),
        ("Code review guidelines",
         ("* Review within one working day.\n* Approve with nits; prefix them with `nit:`.\n"
          "* Block only on correctness, security or missing tests."),
         ["review"], "draft"),
    ]),
    ("IT Help", "Answers to recurring IT questions.", None, [
        ("VPN drops every ten minutes on office Wi-Fi",
         ("The office Wi-Fi drops idle UDP sessions after 600 seconds. Switch the VPN client to TCP: "
          "Settings → Protocol → TCP."), ["vpn", "wifi"], "published"),
    ]),
    ("People & Policies", "HR policies, visible to the people team only.", "people-team", [
        ("Expense policy",
         ("Expenses under 50 EUR need no approval; above that, your manager approves in the expense tool. "
          "Submit receipts within 30 days."), ["expenses", "policy"], "published"),
    ]),
]


def load_demo() -> bool:
    """Create the demo content unless users already exist; True when it was created."""
    if db.session.scalar(select(func.count()).select_from(User)):
        return False
    users = [auth.create_user(email, pw, name, role) for email, pw, role, name in DEMO_USERS]
    admin, curator, _member = users
    people = auth.create_group(admin, "people-team")
    auth.set_group_member(admin, people.id, curator.id, True)
    for name, topic, private, threads in CHANNELS:
        members = [admin.id, curator.id] if private else [u.id for u in users]
        channel = stream.create_channel(admin, name, topic, private, members)
        for author, text, replies in threads:
            root = stream.create_post(users[author], channel.id, text)
            answer = None
            for reply_author, reply in replies:
                posted = stream.create_post(users[reply_author], channel.id, reply, parent_id=root.id)
                if answer is None and reply_author != author:
                    answer = posted
            if answer is not None and "?" in text:  # the asker accepts the first answer to a question
                signals.mark_answer(users[author], answer.id)
    for name, description, group, articles in SPACES:
        group_ids = [people.id] if group else []
        space = kb.create_space(curator, name, description, group_ids)
        for title, body, tags, status in articles:
            article = kb.create_article(curator, space.id, title, body, tags)
            if status == "published":
                kb.transition_article(curator, article.id, "in_review")
                kb.transition_article(admin, article.id, "published", "Demo content")
    score_candidates()  # the curators' queue has content at once, not after the first beat run
    return True
