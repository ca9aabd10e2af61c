"""The flask app of AWS's example: the model is loaded on first use, and /ping is healthy once it loads."""
import io
import os
import pickle

import flask
import pandas as pd

MODEL_PATH = os.path.join("/opt/ml/", "model")


class ScoringService:
    model = None

    @classmethod
    def get_model(cls):
        if cls.model is None:
            with open(os.path.join(MODEL_PATH, "decision-tree-model.pkl"), "rb") as handle:
                cls.model = pickle.load(handle)
        return cls.model

    @classmethod
    def predict(cls, frame):
        return cls.get_model().predict(frame)


app = flask.Flask(__name__)


@app.route("/ping", methods=["GET"])
def ping():
    healthy = ScoringService.get_model() is not None
    return flask.Response(response="\n", status=200 if healthy else 404, mimetype="application/json")


@app.route("/invocations", methods=["POST"])
def transformation():
    if flask.request.content_type != "text/csv":
        return flask.Response(response="This predictor only supports CSV data", status=415, mimetype="text/plain")
    frame = pd.read_csv(io.StringIO(flask.request.data.decode("utf-8")), header=None)
    print(f"Invoked with {frame.shape[0]} records")
    out = io.StringIO()
    pd.DataFrame({"results": ScoringService.predict(frame)}).to_csv(out, header=False, index=False)
    return flask.Response(response=out.getvalue(), status=200, mimetype="text/csv")
