"""The smallest Flask app, served next to Feedback Loop in bench/answer_load.py as a yardstick."""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    return "ok"
