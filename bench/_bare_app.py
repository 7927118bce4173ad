"""The baseline of bench/rps.py: a bare Flask JSON endpoint, served by the same gunicorn settings."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def hello():
    return jsonify(ok=True, service="bare")
