"""The walking skeleton through the API: post, reply, react, promote, publish, search."""


def test_member_post_is_found_by_search_and_curator_promotes_it(client, people, bearer):
    member, curator = bearer(people.member), bearer(people.curator)
    chan = client.post("/api/v1/channels", json={"name": "eng"}, headers=member).get_json()
    post = client.post(f"/api/v1/channels/{chan['id']}/posts",
                       json={"body": "How do I rotate the **staging** key? mail me at milo@example.com"},
                       headers=member).get_json()
    reply = client.post(f"/api/v1/channels/{chan['id']}/posts",
                        json={"body": "Run `vault rotate staging`.", "parent_id": post["id"]}, headers=member)
    assert reply.status_code == 201
    r = client.put(f"/api/v1/posts/{post['id']}/reactions/👍", headers=member)
    assert r.status_code == 200 and r.get_json()["reactions"][0]["count"] == 1
    space = client.post("/api/v1/spaces", json={"name": "Handbook"}, headers=curator).get_json()
    promo = client.post("/api/v1/promotions", json={"post_ids": [post["id"]], "space_id": space["id"]},
                        headers=curator)
    assert promo.status_code == 202, promo.get_json()
    state = client.get(f"/api/v1/promotions/{promo.get_json()['id']}", headers=curator).get_json()
    assert state["status"] == "needs_review", state
    assert state["findings"][0]["kind"] == "email"
    article = client.get(f"/api/v1/articles/{state['article_id']}", headers=curator).get_json()
    assert "[REDACTED:email]" in article["body"] and "milo@example.com" not in article["body"]
    assert article["status"] == "in_review"
    pub = client.post(f"/api/v1/articles/{article['id']}/transitions", json={"to": "published"}, headers=curator)
    assert pub.status_code == 200, pub.get_json()
    hits = client.get("/api/v1/search?q=rotate staging", headers=member).get_json()
    kinds = [i["kind"] for i in hits["items"]]
    assert kinds[0] == "article" and "post" in kinds, hits
