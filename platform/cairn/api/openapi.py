"""The OpenAPI 3 document, built with apispec from the URL map and the marshmallow schemas."""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app

from cairn.api.schemas import ListArgs
from cairn.auth import schemas as auth_s
from cairn.curation import schemas as cur_s
from cairn.curation.candidate_schemas import CandidateArgs, CandidateDismiss
from cairn.kb import schemas as kb_s
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
    "api_stream.create_post": (stream_s.PostCreate, None, 201),
    "api_stream.edit_post": (stream_s.PostUpdate, None, 200),
    "api_stream.list_notifications": (None, stream_s.NotificationArgs, 200),
    "api_stream.read_notifications": (stream_s.NotificationsRead, None, 200),
    "api_stream.get_thread": (None, ListArgs, 200),
    "api_stream.post_revisions": (None, ListArgs, 200),
    "api_stream.mark_channel_read": (stream_s.ReadMark, None, 200),
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
    "api_search.search_all": (None, SearchArgs, 200),
    "api_search.suggest": (None, SuggestArgs, 200),
    "api_gaps.record_click": (ClickCreate, None, 200),
    "api_gaps.list_gaps": (None, GapArgs, 200),
}

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
    paths: dict[str, dict] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule.rule)
        params = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "integer" if conv == "int" else "string"}}
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
                "responses": {
                    str(status): {"description": "Success"},
                    "default": {"description": "Error", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}},
                },
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
