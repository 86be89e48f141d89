"""Bare Flask hello-world: the floor that the API's HTTP figures are compared with."""

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

app = Flask(__name__)


@app.get("/hello")
def hello() -> ResponseReturnValue:
    """Return the smallest JSON response Flask gives."""
    return jsonify(hello="world")
