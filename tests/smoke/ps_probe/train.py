"""Parameter-server probe: each master/worker task listens on its TF_CONFIG address, asks every ps task and
every other master/worker task who they are, and answers their questions; the master writes what it saw.

A task's listener counts only connections that ask ("probe\n"): the launcher's "is the master down yet?"
connections do not."""

import json
import os
import socket
import threading
import time
from pathlib import Path

config = json.loads(os.environ["TF_CONFIG"])
task, cluster = config["task"], config["cluster"]
mine = cluster[task["type"]][task["index"]]
peers = [address for kind in ("master", "worker") for address in cluster.get(kind, []) if address != mine]
listener = socket.create_server(("", int(mine.rsplit(":", 1)[1])))
role = {"job": task["type"], "index": task["index"], "host": socket.gethostname(), "tf_config": config}


def answer():
    answered = 0
    while answered < len(peers):
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(10)
            if connection.makefile().readline().strip() == "probe":
                connection.sendall(json.dumps(role).encode() + b"\n")
                answered += 1


def ask(address, deadline_s=120):
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=5) as connection:
                connection.sendall(b"probe\n")
                line = connection.makefile().readline()
                if line:
                    return json.loads(line)
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{address} did not answer within {deadline_s} s")
        time.sleep(0.2)


answering = threading.Thread(target=answer)
answering.start()
seen = [ask(address) for address in cluster.get("ps", [])] + [ask(address) for address in peers]
answering.join()
listener.close()
if task["type"] == "master":
    Path(os.environ["SM_MODEL_DIR"], "roles.json").write_text(json.dumps({"self": role, "seen": seen}))
print(f"{task['type']}:{task['index']} reached {len(seen)} tasks")
