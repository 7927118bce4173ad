"""Users, groups, logins and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from cairn import audit
from cairn.auth.models import ROLES, ApiToken, Group, User
from cairn.errors import Conflict, Invalid, NotFound
from cairn.extensions import db
from cairn.models_base import utcnow

TOKEN_PREFIX = "cairn_"


def handle_for(user: User) -> str:
    """The @handle used in mentions: the e-mail's local part."""
    return user.email.split("@", 1)[0].lower()


def create_user(email: str, password: str, display_name: str | None = None,
                role: str = "member", actor: User | None = None) -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise Invalid("Unknown role.", {"role": [f"one of {', '.join(ROLES)}"]})
    if len(password) < 8:
        raise Invalid("Password too short.", {"password": ["at least 8 characters"]})
    with db.transaction() as s:
        if s.scalar(select(User.id).where(func.lower(User.email) == email)):
            raise Conflict("A user with this e-mail already exists.", {"email": ["already taken"]})
        user = User(email=email, display_name=display_name or email.split("@")[0],
                    password_hash=generate_password_hash(password), role=role)
        s.add(user)
        s.flush()
        audit.record(s, actor.id if actor else None, "user.create", f"user:{user.id}", role=role)
    return user


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


def update_user(actor: User, user_id: int, *, role: str | None = None, active: bool | None = None,
                display_name: str | None = None, group_ids: list[int] | None = None) -> User:
    with db.transaction() as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound("User not found.")
        if role is not None and role != user.role:
            if role not in ROLES:
                raise Invalid("Unknown role.", {"role": [f"one of {', '.join(ROLES)}"]})
            audit.record(s, actor.id, "user.role", f"user:{user.id}", old=user.role, new=role)
            user.role = role
        if active is not None and active != user.active:
            audit.record(s, actor.id, "user.active", f"user:{user.id}", active=active)
            user.active = active
        if display_name is not None:
            user.display_name = display_name
        if group_ids is not None:
            groups = s.scalars(select(Group).where(Group.id.in_(group_ids))).all()
            if len(groups) != len(set(group_ids)):
                raise Invalid("Unknown group.", {"groups": ["unknown group id"]})
            user.groups = list(groups)
            audit.record(s, actor.id, "user.groups", f"user:{user.id}", groups=sorted(group_ids))
    return user


def create_group(actor: User | None, name: str) -> Group:
    with db.transaction() as s:
        if s.scalar(select(Group.id).where(Group.name == name)):
            raise Conflict("A group with this name exists.", {"name": ["already taken"]})
        group = Group(name=name)
        s.add(group)
        s.flush()
        audit.record(s, actor.id if actor else None, "group.create", f"group:{group.id}", name=name)
    return group


def set_group_member(actor: User | None, group_id: int, user_id: int, member: bool) -> Group:
    with db.transaction() as s:
        group, user = s.get(Group, group_id), s.get(User, user_id)
        if group is None or user is None:
            raise NotFound("Group or user not found.")
        if member and user not in group.members:
            group.members.append(user)
        elif not member and user in group.members:
            group.members.remove(user)
        audit.record(s, actor.id if actor else None, "group.member", f"group:{group.id}",
                     user_id=user.id, member=member)
    return group


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User, name: str = "api") -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and only its hash is kept."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as s:
        token = ApiToken(user_id=user.id, name=name, token_hash=_hash_token(raw))
        s.add(token)
    return token, raw


def user_for_token(raw: str) -> User | None:
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _hash_token(raw), ApiToken.revoked_at.is_(None))
    )
    if token is None or not token.user.active:
        return None
    return token.user


def revoke_token(user: User, token_id: int) -> None:
    with db.transaction() as s:
        token = s.get(ApiToken, token_id)
        if token is None or (token.user_id != user.id and not user.is_admin):
            raise NotFound("Token not found.")
        token.revoked_at = token.revoked_at or utcnow()
