"""The channel page stays cheap: one reaction-picker form per post, no read-marker write when
nothing new arrived, and the single picker form still reacts with the button pressed."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select
from werkzeug.datastructures import MultiDict

from cairn.extensions import db
from cairn.stream import actions
from cairn.stream.models import ChannelRead, Reaction
from tests import factories as f
from tests.conftest import csrf_token


@pytest.fixture
def general(people):
    return f.channel(people.member, "general", members=(people.other,))


def _page(client, channel_id: int) -> str:
    resp = client.get(f"/channels/{channel_id}")
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def _quick_reaction_form(form: str) -> None:
    assert form.count('name="csrf_token"') == 1
    for emoji in ["👍", "🎉", "❤️", "👀", "✅"]:
        assert f'name="emoji" value="{emoji}" formnovalidate' in form
        assert f'aria-label="React with {emoji}"' in form
    assert re.search(r'<input id="emoji-[\w]+" name="emoji"[^>]*required', form)


def test_a_channel_page_carries_one_picker_form_and_one_flag_form_for_all_its_posts(client, login, people, general):
    posts = [f.post(people.member, general, f"note {i}") for i in range(3)]
    login(people.other)
    page = _page(client, general.id)
    assert page.count('class="react-menu"') == 1 and page.count('name="reason"') == 1  # no per-post copies
    picker = re.search(r'<template id="fill-react-menu">(.*?)</template>', page, re.DOTALL).group(1)
    assert 'action="/posts/POST_ID/react"' in picker
    _quick_reaction_form(picker)
    flag = re.search(r'<template id="fill-flag-form">(.*?)</template>', page, re.DOTALL).group(1)
    assert 'action="/posts/POST_ID/flag"' in flag and 'id="flag-reason-POST_ID"' in flag
    # each post's popovers are filled from them (app.js); without JavaScript they lead to the post's page
    for post in posts:
        assert f'<details class="react-picker" data-fill="react-menu" data-post-id="{post.id}">' in page
        assert f'href="/posts/{post.id}#emoji-{post.id}">Pick a reaction' in page
        assert f'<details class="confirm flag" data-fill="flag-form" data-post-id="{post.id}">' in page
        assert f'href="/posts/{post.id}#flag-reason-{post.id}">Flag it' in page


def test_a_thread_page_carries_the_forms_in_every_card(client, login, people, general):
    root = f.post(people.member, general, "question")
    reply = f.post(people.member, general, "answer", parent=root)
    login(people.other)
    page = client.get(f"/posts/{root.id}").get_data(as_text=True)
    pickers = re.findall(r'<details class="react-picker">(.*?)</details>', page, re.DOTALL)
    assert len(pickers) == 2
    for picker in pickers:
        _quick_reaction_form(picker)
    for post in (root, reply):
        assert f'id="emoji-{post.id}"' in page and f'id="flag-reason-{post.id}"' in page
    assert "<template" not in page


@pytest.mark.parametrize("form", [[("emoji", "🎉"), ("emoji", "")], [("emoji", ""), ("emoji", ":tada:")]],
                         ids=["quick button", "free field"])
def test_the_picker_form_reacts_with_the_button_pressed_or_the_field(client, login, people, general, form):
    post = f.post(people.member, general, "react to me")
    login(people.other)
    token = csrf_token(client, f"/channels/{general.id}")
    resp = client.post(f"/posts/{post.id}/react", data=MultiDict([("csrf_token", token), *form]))
    assert resp.status_code == 302
    emojis = list(db.session.scalars(select(Reaction.emoji).where(Reaction.post_id == post.id)))
    assert emojis == [next(v for _, v in form if v).strip(":")]


def test_viewing_an_unchanged_channel_writes_no_read_marker(app, client, login, people, general):
    f.post(people.member, general, "first")
    login(people.other)
    _page(client, general.id)
    writes: list[str] = []

    def spy(conn, cursor, statement, params, context, executemany):
        if "channel_reads" in statement and not statement.lstrip().upper().startswith("SELECT"):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        _page(client, general.id)
        assert writes == []  # nothing new: no upsert
        newer = actions.create_post(people.member, general.id, "second")
        _page(client, general.id)
        assert len(writes) == 1  # something new: the marker moves to it
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
    marker = db.session.scalar(select(ChannelRead.last_read_post_id).where(
        ChannelRead.channel_id == general.id, ChannelRead.user_id == people.other.id))
    assert marker == newer.id
