"""A stand-in for the TensorFlow calls the parameter-server launcher makes (tf.train.ClusterSpec,
tf.compat.v1.ConfigProto, tf.distribute.Server). Its server answers every connection on the ps task's port
with the role it was given, so a test can prove each host's ps process runs, with the right task, over the
job's network. (tensorflow-cpu itself is a 250 MB wheel and a multi-host ParameterServerStrategy run takes
minutes of both CPU cores, too heavy for this suite.)"""

import json
import socket
import types


class ClusterSpec(dict):
    pass


class ConfigProto:
    def __init__(self, **options):
        self.options = options


class Server:
    def __init__(self, cluster, job_name, task_index, config=None):
        port = int(cluster[job_name][task_index].rsplit(":", 1)[1])
        self.role = {"job": job_name, "index": task_index, "host": socket.gethostname(),
                     "device_count": (config.options if config else {}).get("device_count")}
        self.listener = socket.create_server(("", port))

    def join(self):
        while True:
            connection, _ = self.listener.accept()
            with connection:
                connection.sendall(json.dumps(self.role).encode() + b"\n")


train = types.SimpleNamespace(ClusterSpec=ClusterSpec)
compat = types.SimpleNamespace(v1=types.SimpleNamespace(ConfigProto=ConfigProto))
distribute = types.SimpleNamespace(Server=Server)
