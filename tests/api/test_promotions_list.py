"""The curators' promotions list (/promotions): what each promotion is about, by status, paged."""

from __future__ import annotations

import html
import re

from cairn.extensions import db
from cairn.kb.models import Article, article_groups
from tests import factories as f
from tests.api.test_promotion_pipeline import _html_login, _promote, _thread
from tests.api_steps import add_channel, add_post, add_space


def _rows(client, query: str = "") -> dict[int, str]:
    """promotion id -> its row's HTML on the list page."""
    resp = client.get(f"/promotions{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    page = resp.get_data(as_text=True)
    return {int(n): row for n, row in re.findall(r"<tr>\s*<td>(\d+)</td>(.*?)</tr>", page, re.DOTALL)}


def test_the_promotions_list_names_each_article_or_says_why_there_is_none(client, people, bearer):
    h, question, answer, _chat = _thread(client, people, bearer)
    space = add_space(client, h["curator"])
    drafted = _promote(client, h["curator"], [question["id"]], space_id=space)
    secret = add_post(client, h["member"], add_channel(client, h["member"], "deals"), "Strictly confidential: the merger.")
    blocked = _promote(client, h["curator"], [secret["id"]], space_id=space)
    assert blocked["status"] == "failed", blocked
    # the admin's draft is restricted to a group the curator is not in: its row stays, unnamed
    hidden = _promote(client, h["admin"], [answer["id"]], space_id=space)
    db.session.execute(article_groups.insert().values(article_id=hidden["article_id"],
                                                      group_id=f.group("legal", people.admin).id))
    db.session.commit()
    titles = {p["id"]: db.session.get(Article, p["article_id"]).title for p in (drafted, hidden)}
    assert titles[drafted["id"]] != titles[hidden["id"]]
    _html_login(client, people.curator)

    rows = _rows(client)
    assert sorted(rows) == sorted([drafted["id"], blocked["id"], hidden["id"]])
    link = f'href="/articles/{drafted["article_id"]}">{html.escape(titles[drafted["id"]])}</a>'
    assert link in rows[drafted["id"]]
    assert "no article" in rows[blocked["id"]] and html.escape(blocked["error"]) in rows[blocked["id"]]
    assert "no article" in rows[hidden["id"]]
    assert html.escape(titles[hidden["id"]]) not in client.get("/promotions").get_data(as_text=True)


def test_the_promotions_list_filters_by_status_and_pages(client, people, bearer):
    h, question, answer, chat = _thread(client, people, bearer)
    space = add_space(client, h["curator"])
    promotions = [_promote(client, h["curator"], [post["id"]], space_id=space) for post in (question, answer, chat)]
    resp = client.post(f"/api/v1/promotions/{promotions[1]['id']}/rejection", json={"reason": "thin"},
                       headers=h["curator"])
    assert resp.status_code == 200, resp.get_json()
    _html_login(client, people.curator)
    ids = sorted((p["id"] for p in promotions), reverse=True)  # newest first

    assert sorted(_rows(client, "?status=needs_review")) == sorted([promotions[0]["id"], promotions[2]["id"]])
    assert list(_rows(client, "?status=rejected")) == [promotions[1]["id"]]
    assert "No failed promotions." in client.get("/promotions?status=failed").get_data(as_text=True)
    assert client.get("/promotions?status=sleeping").status_code == 400
    seen, query = [], "?limit=1"
    for _ in range(4):
        page = client.get(f"/promotions{query}").get_data(as_text=True)
        seen += list(_rows(client, query))
        more = re.search(r'href="/promotions(\?[^"]*cursor=[^"]+)">More promotions', page)
        if not more:
            break
        query = html.unescape(more.group(1))
    assert seen == ids
