"""Run inside a side's network namespace (nsenter): wait for /ping, send the cases, print the answers as JSON.

argv: port, a JSON file of cases [{"name", "method", "path", "headers", "body_b64"}], seconds to wait for /ping.
"""

import base64
import http.client
import json
import sys
import time

port, cases = int(sys.argv[1]), json.load(open(sys.argv[2]))


def send(method, path, headers=None, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        return {"status": answer.status, "content_type": answer.getheader("Content-Type"),
                "custom_attributes": answer.getheader("X-Amzn-SageMaker-Custom-Attributes"),
                "body_b64": base64.b64encode(answer.read()).decode()}
    finally:
        connection.close()


deadline, ready = time.monotonic() + float(sys.argv[3]), None
while time.monotonic() < deadline:
    try:
        if send("GET", "/ping")["status"] == 200:
            ready = time.monotonic()
            break
    except OSError:
        pass
    time.sleep(0.25)
results = {"ready": ready is not None}
if ready is not None:
    for case in cases:
        body = base64.b64decode(case["body_b64"]) if case.get("body_b64") is not None else None
        try:
            results[case["name"]] = send(case["method"], case["path"], case.get("headers"), body)
        except OSError as error:
            results[case["name"]] = {"error": type(error).__name__}
json.dump(results, sys.stdout)
