"""Auth input schemas and output shapes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cairn.api.schemas import Id
from cairn.auth.actions import handle_for
from cairn.auth.models import ROLES, User


class TokenCreate(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name = fields.String(load_default="api", validate=validate.Length(min=1, max=80))


class UserCreate(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=8, max=200))
    display_name = fields.String(load_default=None, validate=validate.Length(min=1, max=80))
    role = fields.String(load_default="member", validate=validate.OneOf(ROLES))


class UserUpdate(Schema):
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    display_name = fields.String(validate=validate.Length(min=1, max=80))
    groups = fields.List(Id(), validate=validate.Length(max=100))


class GroupCreate(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))


class LoginForm(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    next = fields.String(load_default="", validate=validate.Length(max=500))


def user_out(user: User, full: bool = False) -> dict:
    out = {"id": user.id, "display_name": user.display_name, "handle": handle_for(user)}
    if full:
        out.update(email=user.email, role=user.role, active=user.active,
                   groups=[{"id": g.id, "name": g.name} for g in user.groups])
    return out
