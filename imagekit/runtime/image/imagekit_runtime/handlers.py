"""The user's inference handler, with the sagemaker-inference-toolkit interface and its defaults.

A handler module may define model_fn(model_dir) (required), input_fn(body, content_type),
predict_fn(data, model), output_fn(prediction, accept) — or transform_fn(model, body, content_type, accept)
instead of the last three — plus the optional pre_model_fn(model_dir) and model_warmup_fn(model_dir, model).
Each may take one more argument, the context, as in the toolkit. JSON and CSV bodies reach input_fn as text.
An exception with an integer `status_code` (the toolkit's GenericInferenceToolkitError) answers with it.

When the image has numpy the defaults are the toolkit's own: JSON, CSV and NPY decode to numpy arrays, and
predictions encode keeping their dtype, CSV in numpy's "%s" format. Without numpy they work on lists.

Batch transform's MultiRecord requests carry several records in one body, one per line: the CSV default already
reads every line as a row, and JSON Lines (application/jsonlines, which the toolkit does not decode) reads every
non-empty line as one JSON record; a prediction per record is answered one per line in text/csv or
application/jsonlines, so the platform can match answers to records. The two JSON types take each other's bodies
too: application/json that is several documents (a MultiRecord batch of JSON lines) reads as JSON Lines, and
application/jsonlines that is one document spanning lines (SplitType None) reads as the toolkit reads JSON.
"""

import csv
import importlib
import inspect
import io
import json
import os
import sys

try:
    import numpy
except ImportError:  # the defaults fall back to lists and numbers
    numpy = None

from imagekit_runtime.config import C, log

JSON, CSV, NPY, JSON_LINES = "application/json", "text/csv", "application/x-npy", "application/jsonlines"
TEXT_TYPES = (JSON, CSV, JSON_LINES)


class HandlerError(Exception):
    """A request the handler cannot serve; *status* is the HTTP status to answer with."""

    def __init__(self, message, status=500):
        super().__init__(message)
        self.status_code, self.message = status, message


def error_answer(error):
    """(HTTP status, message) for an exception from the handler: its integer `status_code` if it has one in
    400-599 (the toolkit's BaseInferenceToolkitError, duck-typed so no toolkit import is needed), else 500."""
    status = getattr(error, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 599:
        message = getattr(error, "message", None)
        return status, str(message if message is not None else error)
    return 500, f"{type(error).__name__}: {error}"


class Context:
    """What a handler function's optional last argument gets: the toolkit passes the model server's context of
    the model the call is for, whose model_name and system_properties (model_dir, gpu_id) handlers read."""

    def __init__(self, model_dir, model_name):
        self.model_name = model_name
        self.system_properties = {"model_dir": model_dir, "gpu_id": None}


def media_type(header):
    return (header or "").split(";")[0].strip().lower()


def _number(text):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _json_records(body):
    """The records of a JSON Lines body, one per non-empty line (ValueError naming the line that is not JSON)."""
    records = []
    for number, line in enumerate(body.splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError as error:
                raise ValueError(f"line {number}: {error}") from None
    return records


def _json_body(body, kind):
    """A JSON or JSON Lines body as its media type says, else as the other one when that is what it holds: a
    document is what the toolkit's decoder makes of it (json.loads), JSON Lines a list of its records."""
    try:
        return json.loads(body) if kind == JSON else _json_records(body)
    except ValueError as error:
        problem = error
    try:
        if kind == JSON_LINES:
            return json.loads(body)
        if getattr(problem, "msg", "") == "Extra data":  # a document, then more: JSON Lines, or a line is broken
            return _json_records(body)
    except ValueError as error:
        if kind == JSON:
            problem = error  # the line of the JSON Lines that does not parse
    what = "JSON" if kind == JSON else "JSON Lines"
    raise HandlerError(f"the {what} body does not parse: {problem}", status=400) from None


def default_input_fn(body, content_type):
    kind = media_type(content_type)
    if kind in (JSON, JSON_LINES):
        data = _json_body(body, kind)
        return data if numpy is None else numpy.array(data)
    if kind == CSV:
        if numpy is not None:  # the toolkit's decoder: one row reads as a 1-D array
            return numpy.genfromtxt(io.StringIO(body), dtype=None, delimiter=",")
        return [[_number(value) for value in row] for row in csv.reader(io.StringIO(body)) if row]
    if kind == NPY:
        if numpy is None:
            raise HandlerError(f"{NPY} needs numpy in the image (or define input_fn)", status=415)
        return numpy.load(io.BytesIO(body), allow_pickle=False)
    raise HandlerError(f"unsupported content type {content_type!r}: send {JSON}, {CSV} or {JSON_LINES}, or define "
                       "input_fn", status=415)


def default_predict_fn(data, model):
    if hasattr(model, "predict"):
        return model.predict(data)
    if callable(model):
        return model(data)
    raise HandlerError("the model has no predict() and is not callable: define predict_fn in the handler")


def _plain(value):
    """numpy arrays and scalars → lists and numbers, without importing numpy."""
    return value.tolist() if hasattr(value, "tolist") else value


def default_output_fn(prediction, accept):
    kind = media_type(accept)
    if numpy is not None and kind in (CSV, NPY):  # the toolkit's encoders: dtype kept, numbers as numpy prints
        buffer = io.BytesIO() if kind == NPY else io.StringIO()
        if kind == NPY:
            numpy.save(buffer, prediction)
        else:
            numpy.savetxt(buffer, prediction, delimiter=",", fmt="%s")
        return buffer.getvalue(), kind
    prediction = _plain(prediction)
    if kind == JSON_LINES:  # one line per record: the prediction's first dimension
        rows = prediction if isinstance(prediction, list) else [prediction]
        return "".join(json.dumps(_plain(row), default=_plain) + "\n" for row in rows), JSON_LINES
    if kind == JSON:
        return json.dumps(prediction, default=_plain), JSON
    if kind == CSV:
        rows = prediction if isinstance(prediction, list) else [prediction]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in rows:
            row = _plain(row)
            writer.writerow(row if isinstance(row, (list, tuple)) else [row])
        return out.getvalue(), CSV
    raise HandlerError(f"cannot answer in {accept!r}: accept {JSON}, {CSV} or {JSON_LINES}, or define output_fn",
                       status=406)


def choose_accept(header, default):
    """The first media type of Accept the defaults can produce; a missing Accept or */* means *default*."""
    offered = [media_type(part) for part in (header or "").split(",") if part.strip()]
    offered = [kind for kind in offered if kind not in ("*/*", "")]
    if not offered:
        return default
    return next((kind for kind in offered if kind in (JSON, CSV, NPY, JSON_LINES)), offered[0])


class Handler:
    """The handler module's functions, with defaults for the ones it does not define."""

    def __init__(self, module_name):
        program = os.environ.get(C["env_program"], "")
        shipped = os.path.join(C["model_code_dir"], C["default_handler_module"] + ".py")
        if not program and os.path.isfile(shipped):  # code/inference.py in model.tar.gz wins, as in the toolkit
            log(f"using {shipped}, shipped with the model")
            program = os.path.basename(shipped)
        if program:
            # Code shipped with the model (the toolkit's place), else the image's or local mode's code directory.
            where = next((d for d in (C["model_code_dir"], C["code_dir"]) if os.path.isfile(os.path.join(d, program))),
                         None)
            if where is None:
                log(f"{C['env_program']}={program} is in neither {C['model_code_dir']} nor {C['code_dir']}; "
                    f"using {module_name or 'no handler'}")
            else:
                sys.path.insert(0, where)
                module_name = program[:-3] if program.endswith(".py") else program
        if not module_name:
            raise RuntimeError("this image has no serving handler: set `serve.handler` in imagekit.yaml")
        sys.path.insert(1, C["code_dir"])
        module = importlib.import_module(module_name)
        self.name = module_name
        function = lambda name: getattr(module, name, None)  # noqa: E731
        self.model_fn, self.pre_model_fn, self.warmup_fn = function("model_fn"), function("pre_model_fn"), \
            function("model_warmup_fn")
        self.transform_fn = function("transform_fn")
        custom = [name for name in ("input_fn", "predict_fn", "output_fn") if function(name)]
        if self.transform_fn and custom:
            raise RuntimeError(f"{module_name} defines transform_fn and {', '.join(custom)}: define one or the "
                               "other (the toolkit refuses both)")
        if self.model_fn is None:
            raise RuntimeError(f"{module_name} defines no model_fn(model_dir)")
        self.input_fn = function("input_fn") or default_input_fn
        self.predict_fn = function("predict_fn") or default_predict_fn
        self.output_fn = function("output_fn") or default_output_fn

    @staticmethod
    def call(function, context, *args):
        """function(*args), or function(*args, context) when it takes one more parameter (the toolkit's rule)."""
        try:
            wanted = len(inspect.signature(function).parameters)
        except (TypeError, ValueError):  # builtins without a signature
            wanted = len(args)
        return function(*args, context) if wanted == len(args) + 1 else function(*args)

    def load(self, model_dir, model_name=C["default_model_name"]):
        """(model, its context): every later call for this model gets the same context, as in the toolkit,
        where each model has its own worker and context."""
        context = Context(model_dir, model_name)
        if self.pre_model_fn:
            self.call(self.pre_model_fn, context, model_dir)
        model = self.call(self.model_fn, context, model_dir)
        if self.warmup_fn:
            self.call(self.warmup_fn, context, model_dir, model)
        return model, context

    def invoke(self, model, body, content_type, accept, context):
        """(response bytes, content type) for one request to *model*, loaded with *context*."""
        if media_type(content_type) in TEXT_TYPES:
            try:
                body = body.decode("utf-8")
            except UnicodeDecodeError:
                raise HandlerError(f"the {content_type} body is not UTF-8 text", status=400) from None
        if self.transform_fn:
            result = self.call(self.transform_fn, context, model, body, content_type, accept)
        else:
            data = self.call(self.input_fn, context, body, content_type)
            result = self.call(self.output_fn, context, self.call(self.predict_fn, context, data, model), accept)
        return self._response(result, accept)

    def _response(self, result, accept):
        """The body as bytes and its content type, from what output_fn / transform_fn returned.

        Accepted: the body alone (str, sent as UTF-8, or bytes and other bytes-like objects), answered with the
        Accept type; or a (body, content_type) tuple.
        """
        function = "transform_fn" if self.transform_fn else "output_fn"
        shape = f"{function} must return the response body as bytes or str, or a (body, content_type) tuple"
        if isinstance(result, tuple):
            if len(result) != 2 or not isinstance(result[1], str):
                raise HandlerError(f"{function} returned a tuple of {len(result)} item(s) "
                                   f"({', '.join(type(item).__name__ for item in result)}): {shape}")
            data, kind = result
        else:
            data, kind = result, accept
        if isinstance(data, str):
            return data.encode("utf-8"), kind
        try:
            return memoryview(data).tobytes(), kind
        except TypeError:
            raise HandlerError(f"{function} returned {type(data).__name__} as the response body: {shape}, "
                               f'e.g. `return json.dumps(prediction), "application/json"`') from None
