"""The ceiling: a bare Flask "hello world" under the same gunicorn configuration."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello world"
