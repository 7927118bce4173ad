"""Redaction highlighting, form text normalisation and revision diffs."""

from cairn.kb import actions as kb
from cairn.web import highlight_redactions


def test_redaction_markers_are_highlighted_in_text_but_never_inside_tags():
    html = '<p>mail <a href="https://x.test" title="t [REDACTED:email]">x</a> at [REDACTED:email]</p>'
    out = str(highlight_redactions(html))
    assert out.count("<mark") == 1
    assert 'title="t [REDACTED:email]"' in out
    assert out.endswith('at <mark class="redaction" title="redacted email">[redacted email]</mark></p>')


def test_diff_between_revisions_keeps_lines_apart_when_the_text_has_no_final_newline(app, people):
    space = kb.create_space(people.curator, "Handbook")
    article = kb.create_article(people.curator, space.id, "VPN", "line one\nline two")
    kb.edit_article(people.curator, article.id, 1, body="line one\nline 2\nline three")
    diff = kb.diff(people.curator, article.id, 1, 2).splitlines()
    assert "-line two" in diff and "+line 2" in diff and "+line three" in diff
    assert " line one" in diff


def test_article_edited_in_a_browser_form_stores_lf_line_ends(client, people, login):
    from tests.conftest import csrf_token

    space = kb.create_space(people.curator, "Handbook")
    article = kb.create_article(people.curator, space.id, "VPN", "a\nb")
    login(people.curator)
    token = csrf_token(client, f"/articles/{article.id}/edit")
    resp = client.post(f"/articles/{article.id}/edit", data={
        "csrf_token": token, "revision": "1", "title": "VPN", "body": "a\r\nb\r\nc", "tags": "", "note": ""})
    assert resp.status_code == 302
    assert kb.revision(people.curator, article.id, 2).body == "a\nb\nc"
    assert kb.diff(people.curator, article.id, 1, 2).splitlines()[-1] == "+c"
