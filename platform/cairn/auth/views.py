"""Login and logout pages, and Flask-Login wiring."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user

from cairn.auth.actions import authenticate
from cairn.auth.models import User
from cairn.extensions import db, limiter, login_manager

bp = Blueprint("auth", __name__)


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to continue."


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def _safe_next(target: str) -> str:
    parts = urlsplit(target)
    return target if target.startswith("/") and not target.startswith("//") and not parts.netloc else url_for("stream.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CAIRN"]["rate_limit_login"], methods=["POST"])
def login():
    error = None
    if request.method == "POST":
        user = authenticate(request.form.get("email", "")[:254], request.form.get("password", "")[:200])
        if user is not None:
            login_user(user, remember=bool(request.form.get("remember")))
            return redirect(_safe_next(request.form.get("next", "")))
        error = "Wrong e-mail or password."
    return render_template("auth/login.html", error=error, next=request.args.get("next", "")), 401 if error else 200


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))
