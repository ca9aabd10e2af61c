"""`distribution: parameter_server`: TF_CONFIG per host and a parameter-server process beside the worker, as the
SageMaker TensorFlow toolkit does (sagemaker_tensorflow_container/training.py: _build_tf_config_for_ps, _run_ps,
_wait_until_master_is_down), so TensorFlow parameter-server scripts written for AWS's containers run unchanged.

The first host is the master (task type "master", the toolkit's name for TF's chief), the others are workers;
with more than one host every host also runs a `ps` task. Masters and workers listen on 2222, parameter servers
on 2223. The parameter server is `tf.distribute.Server(job_name="ps")` with GPUs hidden, started in its own
process; unlike the toolkit (whose ps process outlives the job) it is stopped when this host is done: after the
worker on algo-1, and on the others once the master's port has closed too, as the toolkit's workers wait for.
"""

import json
import os
import socket
import subprocess
import sys
import time

from imagekit_runtime.config import C, log

PS_SERVER = """import json, os
import tensorflow as tf
config = json.loads(os.environ["TF_CONFIG"])
server = tf.distribute.Server(tf.train.ClusterSpec(config["cluster"]), job_name="ps",
                              task_index=config["task"]["index"],
                              config=tf.compat.v1.ConfigProto(device_count={"GPU": 0}))
server.join()
"""


def tf_config(hosts, current_host, ps_task=False):
    """TF_CONFIG for *current_host*: its worker (or master) task, or with *ps_task* its parameter-server task."""
    workers, ps = hosts[1:], hosts if len(hosts) > 1 else None

    def addresses(names, port):
        return [f"{name}:{port}" for name in names]

    config = {"cluster": {"master": addresses(hosts[:1], C["tf_worker_port"])}, "environment": "cloud"}
    if ps:
        config["cluster"]["ps"] = addresses(ps, C["tf_ps_port"])
    if workers:
        config["cluster"]["worker"] = addresses(workers, C["tf_worker_port"])
    if ps_task:
        if ps is None:
            raise RuntimeError("a parameter-server task needs more than one host")
        task = {"index": ps.index(current_host), "type": "ps"}
    elif current_host == hosts[0]:
        task = {"index": 0, "type": "master"}
    else:
        task = {"index": workers.index(current_host), "type": "worker"}
    config["task"] = task
    return config


def start_parameter_server(hosts, current_host, child_env):
    """The ps task of this host, in its own process with the job's environment."""
    env = {**child_env, C["tf_config_env"]: json.dumps(tf_config(hosts, current_host, ps_task=True))}
    log(f"starting the parameter server of {current_host} on port {C['tf_ps_port']}")
    return subprocess.Popen([sys.executable, "-c", PS_SERVER], cwd=C["code_dir"], env=env, start_new_session=True)


def worker_environment(hosts, current_host, child_env):
    return {**child_env, C["tf_config_env"]: json.dumps(tf_config(hosts, current_host))}


def wait_until_master_is_down(master, poll_s=2.0):
    """Until nothing listens on the master's task port (the toolkit polls it with curl every 10 s)."""
    while True:
        try:
            socket.create_connection((master, C["tf_worker_port"]), timeout=5).close()
        except OSError:
            log(f"master {master} is down, stopping the parameter server")
            return
        time.sleep(poll_s)


def parameter_server_failure(process, host):
    """The failure text when this host's parameter server died with an error before the job was done."""
    code = process.poll()
    if code is None or code == 0:
        return None
    return f"the parameter server on {host} exited with code {code} (is tensorflow installed in the image?)"


def stop(process):
    if process.poll() is None:
        try:
            os.killpg(process.pid, 15)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
