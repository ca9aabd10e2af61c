"""Run inside the toolkit venv: the toolkit's default input_fn/output_fn and imagekit's on the same cases.

argv: the imagekit runtime dir to import from. Prints one JSON document: case name -> {"toolkit": ..., "imagekit": ...}.
Each side gets the body and Accept the way its own server would hand them over (the toolkit decodes exactly
application/json and text/csv to text and replaces a missing or */* Accept with the default; imagekit compares
media types and picks the first Accept type it can produce).
"""

import base64
import io
import json
import sys

import numpy
from sagemaker_inference import content_types
from sagemaker_inference.default_inference_handler import DefaultInferenceHandler

sys.path.insert(0, sys.argv[1])
from imagekit_runtime import handlers  # noqa: E402

TOOLKIT = DefaultInferenceHandler()
DEFAULT_ACCEPT = "application/json"


def npy(array):
    buffer = io.BytesIO()
    numpy.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


JSON_BODIES = {"ints": "[1, 2, 3]", "matrix": "[[1, 2], [3, 4]]", "mixed-matrix": "[[1.5, 2], [3, 4]]",
               "empty-list": "[]", "scalar": "5", "object": '{"a": 1, "b": [1, 2]}', "string": '"text ü"',
               "trailing-newline": "[1, 2]\n", "booleans": "[true, false]", "mixed-types": '[1, "a"]',
               "empty-body": "", "ragged": "[[1, 2], [3]]", "big-int": "[12345678901234567890]",
               "floats": "[0.1, 1e-07, 3.0]", "not-json": "{nope", "nested-3d": "[[[1], [2]], [[3], [4]]]"}
CSV_BODIES = {"one-row": "1,2,3", "one-row-newline": "1,2,3\n", "two-rows": "1,2\n3,4\n",
              "float-rows": "1.5,2.5\n3.5,4.5\n", "mixed-columns": "1,2.5\n3,4.5\n", "text": "a,b\n",
              "one-column": "1\n2\n3\n", "empty-body": "", "missing-value": "1,,3\n", "spaces": " 1 , 2 \n",
              "crlf": "1,2\r\n3,4\r\n", "negative-exp": "-1e3,2E-2\n"}
NPY_BODIES = {"float32-2d": npy(numpy.arange(4, dtype=numpy.float32).reshape(2, 2)),
              "int32": npy(numpy.array([1, 2, 3], dtype=numpy.int32)), "float64-scalar": npy(numpy.float64(2.5)),
              "bool": npy(numpy.array([True, False])), "uint16": npy(numpy.array([65535], dtype=numpy.uint16)),
              "int8-3d": npy(numpy.zeros((2, 1, 2), dtype=numpy.int8)), "empty": npy(numpy.array([])),
              "unicode": npy(numpy.array(["a", "ü"])), "object-pickle": npy(numpy.array([{"a": 1}], dtype=object))}
DECODE = {
    **{f"json/{k}": (v.encode(), content_types.JSON) for k, v in JSON_BODIES.items()},
    **{f"csv/{k}": (v.encode(), content_types.CSV) for k, v in CSV_BODIES.items()},
    **{f"npy/{k}": (v, content_types.NPY) for k, v in NPY_BODIES.items()},
    "charset/json": (b"[1, 2]", "application/json; charset=utf-8"),
    "charset/csv": (b"1,2\n", "text/csv; charset=utf-8"),
    "other/octet-stream": (b"\x00\x01", "application/octet-stream"), "other/text": (b"hi", "text/plain"),
    "other/upper-case-json": (b"[1]", "Application/JSON"),
}
# SplitType None sends a whole file: one JSON document spanning lines, which imagekit's JSON Lines default reads as
# the toolkit reads application/json.
SPANNING_DOCUMENTS = {"matrix": "[\n  [1, 2],\n  [3, 4]\n]\n", "object": '{\n  "a": 1,\n  "b": [1, 2]\n}',
                      "floats": "[\n  0.5,\n  1e-07\n]"}
PREDICTIONS = {
    "float32-1d": numpy.array([0.2, 0.4], dtype=numpy.float32), "float32-2d": numpy.array([[0.1, 0.25]], "float32"),
    "float64-2d": numpy.array([[1 / 3, 2.0], [3.5, 1e-08]]), "int32": numpy.array([1, 2], dtype=numpy.int32),
    "int64-2d": numpy.array([[1, 2], [3, 4]]), "bool": numpy.array([True, False]),
    "numpy-scalar": numpy.float32(0.5), "python-floats": [0.1, 0.2], "python-nested": [[1, 2.5], [3, 4]],
    "python-float": 0.1, "python-int": 3, "strings": numpy.array(["a", "b"]), "dict": {"label": "cat", "p": 0.9},
    "empty": numpy.array([]), "3d": numpy.zeros((2, 2, 2), dtype=numpy.float16),
}
ACCEPTS = ["application/json", "text/csv", "application/x-npy", "application/json, text/csv",
           "text/csv,application/json", "*/*", "", "text/html", "application/json; charset=utf-8",
           "application/x-npy, application/json"]


def describe(value):
    if isinstance(value, numpy.ndarray):
        try:
            plain = value.tolist()
            json.dumps(plain)
        except (TypeError, ValueError):
            plain = repr(value.tolist())
        return {"type": "ndarray", "dtype": str(value.dtype), "shape": list(value.shape), "value": plain}
    return {"type": type(value).__name__, "value": value if isinstance(value, (int, float, str, list, dict))
            else repr(value)}


def failure(error, status):
    return {"error": True, "status": status}


def toolkit_decode(body, content_type):
    if content_type in content_types.UTF8_TYPES:
        body = body.decode("utf-8")
    try:
        return describe(TOOLKIT.default_input_fn(body, content_type))
    except Exception as error:  # noqa: BLE001 - any error is an answer here
        return failure(error, getattr(error, "status_code", 500))


def imagekit_decode(body, content_type):
    try:
        if handlers.media_type(content_type) in handlers.TEXT_TYPES:
            body = body.decode("utf-8")
        return describe(handlers.default_input_fn(body, content_type))
    except Exception as error:  # noqa: BLE001
        return failure(error, handlers.error_answer(error)[0])


def encoded(result):
    body, content_type = result
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    return {"body": base64.b64encode(data).decode(), "content_type": content_type}


def toolkit_encode(prediction, accept):
    if not accept or accept == content_types.ANY:
        accept = DEFAULT_ACCEPT
    try:
        return encoded(TOOLKIT.default_output_fn(prediction, accept))
    except Exception as error:  # noqa: BLE001
        return failure(error, getattr(error, "status_code", 500))


def imagekit_encode(prediction, accept):
    try:
        return encoded(handlers.default_output_fn(prediction, handlers.choose_accept(accept, DEFAULT_ACCEPT)))
    except Exception as error:  # noqa: BLE001
        return failure(error, handlers.error_answer(error)[0])


results = {}
for name, (body, content_type) in DECODE.items():
    results[f"decode/{name}"] = {"toolkit": toolkit_decode(body, content_type),
                                 "imagekit": imagekit_decode(body, content_type)}
for name, text in SPANNING_DOCUMENTS.items():
    results[f"decode/jsonlines-document/{name}"] = {"toolkit": toolkit_decode(text.encode(), content_types.JSON),
                                                    "imagekit": imagekit_decode(text.encode(), handlers.JSON_LINES)}
for name, prediction in PREDICTIONS.items():
    for accept in ACCEPTS:
        results[f"encode/{name}/{accept or 'none'}"] = {"toolkit": toolkit_encode(prediction, accept),
                                                        "imagekit": imagekit_encode(prediction, accept)}
json.dump(results, sys.stdout)
