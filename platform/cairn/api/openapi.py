"""The OpenAPI 3 document, built with apispec from the URL map and the marshmallow schemas."""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app

from cairn.api import out_schemas as out
from cairn.api.schemas import AuditArgs, ListArgs
from cairn.auth import schemas as auth_s
from cairn.curation import schemas as cur_s
from cairn.curation.candidate_schemas import CandidateArgs, CandidateDismiss
from cairn.kb import schemas as kb_s
from cairn.models_base import MAX_ID
from cairn.search.gaps_schemas import ClickCreate, GapArgs
from cairn.search.schemas import SearchArgs, SuggestArgs
from cairn.stream import schemas as stream_s

# endpoint -> (JSON body schema, query-string schema, success status)
OPERATIONS = {
    "api_auth.create_token": (auth_s.TokenCreate, None, 201),
    "api_auth.create_user": (auth_s.UserCreate, None, 201),
    "api_auth.update_user": (auth_s.UserUpdate, None, 200),
    "api_auth.list_users": (None, ListArgs, 200),
    "api_auth.create_group": (auth_s.GroupCreate, None, 201),
    "api_stream.create_channel": (stream_s.ChannelCreate, None, 201),
    "api_stream.update_channel": (stream_s.ChannelUpdate, None, 200),
    "api_stream.list_posts": (None, ListArgs, 200),
    "api_stream.list_members": (None, ListArgs, 200),
    "api_stream.create_post": (stream_s.PostCreate, None, 201),
    "api_stream.edit_post": (stream_s.PostUpdate, None, 200),
    "api_stream.list_notifications": (None, stream_s.NotificationArgs, 200),
    "api_stream.read_notifications": (stream_s.NotificationsRead, None, 200),
    "api_stream.get_thread": (None, ListArgs, 200),
    "api_stream.post_revisions": (None, ListArgs, 200),
    "api_stream.mark_channel_read": (stream_s.ReadMark, None, 200),
    "api_stream.leave_channel": (None, None, 204),
    "api_stream.remove_reaction": (None, None, 200),
    "api_stream.lookup_users": (None, stream_s.MentionLookupArgs, 200),
    "api_stream.preview": (stream_s.Preview, None, 200),
    "api_stream.add_bookmark": (None, None, 201),
    "api_stream.list_bookmarks": (None, ListArgs, 200),
    "api_stream.flag_post": (stream_s.FlagCreate, None, 201),
    "api_stream.hide_post": (stream_s.HideRequest, None, 200),
    "api_stream.moderation_queue": (None, stream_s.ModerationArgs, 200),
    "api_kb.create_space": (kb_s.SpaceCreate, None, 201),
    "api_kb.update_space": (kb_s.SpaceUpdate, None, 200),
    "api_kb.list_articles": (None, kb_s.ArticleArgs, 200),
    "api_kb.create_article": (kb_s.ArticleCreate, None, 201),
    "api_kb.edit_article": (kb_s.ArticleUpdate, None, 200),
    "api_kb.diff": (None, kb_s.DiffArgs, 200),
    "api_kb.transition": (kb_s.Transition, None, 200),
    "api_kb.restore_revision": (kb_s.RevisionRestore, None, 201),
    "api_kb.flag_article": (kb_s.ArticleFlagCreate, None, 201),
    "api_kb.list_flags": (None, kb_s.ArticleFlagArgs, 200),
    "api_kb.resolve_flag": (kb_s.ArticleFlagResolve, None, 200),
    "api_curation.create_promotion": (cur_s.PromotionCreate, None, 202),
    "api_curation.list_promotions": (None, cur_s.PromotionArgs, 200),
    "api_curation.reject_promotion": (cur_s.PromotionReject, None, 200),
    "api_curation.append_instead": (cur_s.AppendInstead, None, 202),
    "api_candidates.list_candidates": (None, CandidateArgs, 200),
    "api_candidates.dismiss_candidate": (CandidateDismiss, None, 200),
    "api_candidates.restore_candidate": (None, None, 200),
    "api_search.search_all": (None, SearchArgs, 200),
    "api_meta.list_audit": (None, AuditArgs, 200),
    "api_search.suggest": (None, SuggestArgs, 200),
    "api_gaps.record_click": (ClickCreate, None, 200),
    "api_gaps.list_gaps": (None, GapArgs, 200),
}

# the statuses API.md promises for errors, each answered with an Error body
ERROR_STATUSES = {
    "400": "Malformed or invalid input (every problem listed in fields)",
    "401": "Not authenticated",
    "403": "Not allowed",
    "404": "Not found, or not visible to the caller",
    "409": "Conflicts with existing data",
    "413": "Too large",
    "422": "A rule is violated",
    "429": "Rate limited",
}
# list routes answer {"items": [...], "next": cursor or null}
PAGE = {
    "type": "object",
    "required": ["items", "next"],
    "properties": {"items": {"type": "array", "items": {"type": "object"}}, "next": {"type": "string", "nullable": True}},
}
# what a route answers: one object, or a page of them (other routes: a page or an object)
ANSWERS = {
    **dict.fromkeys(["api_auth.me", "api_auth.get_user", "api_auth.create_user", "api_auth.update_user"],
                    out.UserOut),
    **dict.fromkeys(["api_stream.get_channel", "api_stream.create_channel", "api_stream.update_channel",
                     "api_stream.join_channel", "api_stream.add_member"], out.ChannelOut),
    **dict.fromkeys(["api_stream.get_post", "api_stream.create_post", "api_stream.edit_post",
                     "api_stream.add_reaction", "api_stream.remove_reaction", "api_stream.hide_post",
                     "api_stream.restore_post"], out.PostOut),
    **dict.fromkeys(["api_kb.get_article", "api_kb.create_article", "api_kb.edit_article", "api_kb.transition",
                     "api_kb.verify", "api_kb.restore_revision"], out.ArticleOut),
    **dict.fromkeys(["api_kb.get_space", "api_kb.create_space", "api_kb.update_space"], out.SpaceOut),
    **dict.fromkeys(["api_curation.create_promotion", "api_curation.get_promotion",
                     "api_curation.reject_promotion", "api_curation.append_instead"], out.PromotionOut),
    **dict.fromkeys(["api_candidates.dismiss_candidate", "api_candidates.restore_candidate"], out.CandidateOut),
    "api_search.search_all": out.SearchOut,
    "api_auth.create_token": out.TokenOut,
    **dict.fromkeys(["api_auth.create_group", "api_auth.add_member"], out.GroupOut),
    "api_kb.get_revision": out.ArticleRevisionOut,
    "api_kb.diff": out.DiffOut,
    "api_stream.add_bookmark": out.BookmarkOut,
    "api_stream.preview": out.PreviewOut,
}
PAGE_ITEMS = {
    "api_auth.list_users": out.UserOut,
    "api_stream.list_channels": out.ChannelOut,
    "api_stream.list_posts": out.PostOut,
    "api_stream.list_members": out.UserRefOut,
    "api_stream.lookup_users": out.UserRefOut,
    "api_kb.list_articles": out.ArticleSummaryOut,
    "api_kb.list_spaces": out.SpaceOut,
    "api_curation.list_promotions": out.PromotionOut,
    "api_candidates.list_candidates": out.CandidateOut,
    "api_auth.list_groups": out.GroupOut,
    "api_stream.post_revisions": out.PostRevisionOut,
    "api_stream.list_notifications": out.NotificationOut,
    "api_stream.list_bookmarks": out.BookmarkOut,
    "api_kb.list_revisions": out.ArticleRevisionOut,
    "api_meta.list_audit": out.AuditEventOut,
}
# success bodies that are neither a page nor just an object
SUCCESS_SCHEMAS = {
    "api_stream.get_thread": {
        "type": "object",
        "required": ["root", "replies", "next"],
        "properties": {"root": {"type": "object"}, "replies": {"type": "array", "items": {"type": "object"}},
                       "next": {"type": "string", "nullable": True}},
    },
}
# Server-Sent Events, not JSON; 503 when the server holds its maximum of open streams
EVENT_STREAMS = {"api_stream.channel_events"}

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "fields"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    }}},
}
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def build_spec() -> dict:
    spec = APISpec(title="Cairn API", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", ERROR)
    spec.components.schema("Page", PAGE)
    paths: dict[str, dict] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule.rule)
        params = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID} if conv == "int" else {"type": "string"}}
                  for conv, name in CONVERTER.findall(rule.rule)]
        view = current_app.view_functions[rule.endpoint]
        body, args, status = OPERATIONS.get(rule.endpoint, (None, None, 200))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "DELETE" and rule.endpoint not in OPERATIONS:
                status = 204
            op: dict = {
                "operationId": rule.endpoint.replace(".", "_") + ("" if method == "GET" else f"_{method.lower()}"),
                "summary": (view.__doc__ or rule.endpoint).strip().splitlines()[0],
                "parameters": list(params),
                "responses": _responses(rule.endpoint, method, status, args),
                "security": [] if rule.endpoint in ("api_auth.create_token", "api_meta.openapi") else [{"bearer": []}],
            }
            if args is not None:
                op["parameters"].append({"in": "query", "schema": args})
            if body is not None and method in ("POST", "PUT", "PATCH"):
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
            paths.setdefault(path, {})[method.lower()] = op
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _responses(endpoint: str, method: str, status: int, args) -> dict:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    responses = {code: {"description": text, **error} for code, text in ERROR_STATUSES.items()}
    # the web server's own answer (gunicorn's HTML page) to a request line past its limit
    responses["414"] = {"description": "The URL is too long"}
    if status == 204:
        success: dict = {"description": "Done (no content)"}
    elif endpoint in EVENT_STREAMS:
        success = {"description": "An event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}
        responses["503"] = {"description": "Too many open streams; retry shortly", **error}
    else:
        schema = _success_schema(endpoint, method, args)
        success = {"description": "Success", "content": {"application/json": {"schema": schema}}}
    responses[str(status)] = success
    return responses


def _success_schema(endpoint: str, method: str, args) -> dict | type:
    if endpoint in ANSWERS:
        return ANSWERS[endpoint]
    if endpoint in PAGE_ITEMS:
        return {"type": "object", "required": ["items", "next"], "properties": {
            "items": {"type": "array", "items": PAGE_ITEMS[endpoint]}, "next": {"type": "string", "nullable": True}}}
    if endpoint in SUCCESS_SCHEMAS:
        return SUCCESS_SCHEMAS[endpoint]
    page = endpoint.split(".")[1].startswith("list_") or (
        method == "GET" and isinstance(args, type) and issubclass(args, ListArgs))
    return {"$ref": "#/components/schemas/Page"} if page else {"type": "object"}
