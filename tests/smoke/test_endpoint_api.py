"""Unmodified boto3 clients (sagemaker-runtime, sagemaker, cloudwatch) against the local endpoint's router, with stub
model containers: the calls a client and a rollout script make work, and errors arrive as botocore's exceptions."""

from __future__ import annotations

import http.client
import socket
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from imagekit import contract

from .endpoint_stub import ENDPOINT, REGION, client, stub_endpoint

DIMENSIONS = [{"Name": "EndpointName", "Value": ENDPOINT}]


def _dimensions(variant: str) -> list[dict]:
    return [*DIMENSIONS, {"Name": "VariantName", "Value": variant}]


@pytest.fixture()
def endpoint():
    with stub_endpoint({"blue": 1.0, "green": 0.0}, fail_every={"green": 4}) as router:
        yield router


def test_invoke_endpoint_forwards_the_request_headers_and_answers_with_the_variant(endpoint) -> None:
    runtime = client("sagemaker-runtime", endpoint)
    answer = runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b'{"x": 1}', ContentType="application/json",
                                     Accept="application/json", CustomAttributes="trace=7", InferenceId="req-1",
                                     TargetModel="model-a.tar.gz", EnableExplanations="`true`")
    assert answer["Body"].read() == b'{"prediction": 1}'
    assert (answer["InvokedProductionVariant"], answer["ContentType"], answer["CustomAttributes"]) == (
        "blue", "application/json", "model-says=trace=7")
    seen = {key.lower(): value for key, value in endpoint.models["blue"].seen[-1].items()}
    assert (seen["content-type"], seen["accept"]) == ("application/json", "application/json")
    assert seen[contract.HEADER_CUSTOM_ATTRIBUTES.lower()] == "trace=7"
    assert seen[contract.HEADER_INFERENCE_ID.lower()] == "req-1"
    assert seen[contract.HEADER_TARGET_MODEL.lower()] == "model-a.tar.gz"
    assert "authorization" not in seen  # the platform strips every other header
    targeted = runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"{}", TargetVariant="green")
    assert targeted["InvokedProductionVariant"] == "green"


def test_invoke_errors_are_the_platforms(endpoint) -> None:
    runtime = client("sagemaker-runtime", endpoint)
    with pytest.raises(ClientError) as unknown:
        runtime.invoke_endpoint(EndpointName="no-such-endpoint", Body=b"{}")
    assert unknown.value.response["Error"]["Code"] == "ValidationError"
    assert "Endpoint no-such-endpoint of account" in unknown.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as variant:
        runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"{}", TargetVariant="red")
    assert variant.value.response["Error"]["Code"] == "ValidationError"
    assert "red" in variant.value.response["Error"]["Message"]
    with pytest.raises(runtime.exceptions.ModelError) as model:
        runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"bad")
    error = model.value.response
    assert (error["OriginalStatusCode"], error["OriginalMessage"]) == (400, "cannot parse bad")
    assert error["LogStreamArn"] == (f"arn:aws:logs:{REGION}:{contract.LOCAL_ACCOUNT_ID}:log-group:"
                                     f"/aws/sagemaker/Endpoints/{ENDPOINT}")
    assert "Received client error (400)" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == contract.MODEL_ERROR_STATUS
    with pytest.raises(ClientError) as too_long:
        runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"{}", InferenceId="i" * 65)
    assert too_long.value.response["Error"]["Code"] == "ValidationError"
    assert endpoint.models["blue"].seen[-1:] == [] or "i" * 65 not in str(endpoint.models["blue"].seen)


def test_a_container_that_does_not_answer_is_a_model_error_and_a_5xx(endpoint) -> None:
    endpoint.variants["green"].port = _closed_port()
    runtime = client("sagemaker-runtime", endpoint)
    with pytest.raises(runtime.exceptions.ModelError) as error:
        runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"{}", TargetVariant="green")
    assert error.value.response["OriginalStatusCode"] == 0
    assert "Received server error (0)" in error.value.response["Error"]["Message"]
    assert "green's container did not answer" in error.value.response["OriginalMessage"]
    assert endpoint.metrics()["green"][contract.METRIC_5XX] == 1


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nobody listens there once the probe is closed


def test_a_rollout_script_shifts_weights_with_describe_update_and_the_waiter(endpoint) -> None:
    sagemaker = client("sagemaker", endpoint)
    described = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointArn"] == f"arn:aws:sagemaker:{REGION}:{contract.LOCAL_ACCOUNT_ID}:endpoint/{ENDPOINT}"
    assert [(v["VariantName"], v["CurrentWeight"], v["DesiredWeight"], v["CurrentInstanceCount"])
            for v in described["ProductionVariants"]] == [("blue", 1.0, 1.0, 1), ("green", 0.0, 0.0, 1)]
    assert [e["EndpointName"] for e in sagemaker.list_endpoints(NameContains="blue")["Endpoints"]] == [ENDPOINT]
    assert sagemaker.list_endpoints(StatusEquals="Failed")["Endpoints"] == []

    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[{"VariantName": "blue", "DesiredWeight": 0.0},
                                                            {"VariantName": "green", "DesiredWeight": 1.0}])
    updating = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    assert updating["EndpointStatus"] == "Updating"
    assert [(v["CurrentWeight"], v["DesiredWeight"]) for v in updating["ProductionVariants"]] == [(1.0, 0.0),
                                                                                                  (0.0, 1.0)]
    with pytest.raises(ClientError, match="Cannot update in-progress endpoint") as busy:
        sagemaker.update_endpoint_weights_and_capacities(
            EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[{"VariantName": "blue", "DesiredWeight": 1.0}])
    assert busy.value.response["Error"]["Code"] == "ValidationException"
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=ENDPOINT,
                                                     WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    after = sagemaker.describe_endpoint(EndpointName=ENDPOINT)["ProductionVariants"]
    assert [(v["CurrentWeight"], v["DesiredWeight"]) for v in after] == [(0.0, 0.0), (1.0, 1.0)]
    runtime = client("sagemaker-runtime", endpoint)
    answers = set()
    for _ in range(6):
        try:
            answers.add(runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"{}")["InvokedProductionVariant"])
        except runtime.exceptions.ModelError as error:  # green fails every 4th request
            answers.add(error.response["ResponseMetadata"]["HTTPHeaders"][contract.HEADER_INVOKED_VARIANT.lower()])
    assert answers == {"green"}


@pytest.mark.parametrize("call, code, message", [
    (lambda s: s.describe_endpoint(EndpointName="nope"), "ValidationException", "Could not find endpoint"),
    (lambda s: s.update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[{"VariantName": "red", "DesiredWeight": 1.0}]),
     "ValidationException", "'red' is not part of endpoint"),
    (lambda s: s.update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[{"VariantName": "blue", "DesiredInstanceCount": 3}]),
     "ValidationException", "one container per variant"),
    (lambda s: s.update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[{"VariantName": "blue", "DesiredWeight": 0.0}]),
     "ValidationException", "weight 0"),
    (lambda s: s.delete_endpoint(EndpointName=ENDPOINT), "UnknownOperationException",
     "SageMaker.DeleteEndpoint is not supported by imagekit's local endpoint"),
], ids=["unknown-endpoint", "unknown-variant", "instance-count", "all-zero", "unsupported"])
def test_control_plane_errors_are_validation_exceptions(endpoint, call, code: str, message: str) -> None:
    with pytest.raises(ClientError) as error:
        call(client("sagemaker", endpoint))
    assert error.value.response["Error"]["Code"] == code
    assert message in error.value.response["Error"]["Message"]
    assert client("sagemaker", endpoint).describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"] == "InService"


def test_cloudwatch_reads_the_per_variant_metrics(endpoint) -> None:
    runtime = client("sagemaker-runtime", endpoint)
    for _ in range(8):
        runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"{}")
    for _ in range(8):
        try:
            runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"{}", TargetVariant="green")
        except runtime.exceptions.ModelError:
            pass
    cloudwatch = client("cloudwatch", endpoint)
    now = datetime.now(timezone.utc)
    window = {"StartTime": now - timedelta(minutes=5), "EndTime": now + timedelta(minutes=1)}
    errors = cloudwatch.get_metric_statistics(Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors",
                                              Dimensions=_dimensions("green"), Period=360,
                                              Statistics=["Sum", "Average", "SampleCount"], **window)
    assert [(p["Sum"], p["Average"], p["SampleCount"], p["Unit"]) for p in errors["Datapoints"]] == [
        (2.0, 0.25, 8.0, "Count")]
    latency = cloudwatch.get_metric_statistics(Namespace="AWS/SageMaker", MetricName="ModelLatency",
                                               Dimensions=_dimensions("blue"), Period=360, Statistics=["Maximum"],
                                               ExtendedStatistics=["p50", "p99"], **window)
    point = latency["Datapoints"][0]
    assert point["Unit"] == "Microseconds"
    assert 0 < point["ExtendedStatistics"]["p50"] <= point["ExtendedStatistics"]["p99"] <= point["Maximum"]
    data = cloudwatch.get_metric_data(MetricDataQueries=[
        {"Id": "calls", "MetricStat": {"Metric": {"Namespace": "AWS/SageMaker", "MetricName": "Invocations",
                                                  "Dimensions": _dimensions(v)}, "Period": 360, "Stat": "Sum"}}
        for v in ("blue", "green")] + [
        {"Id": "p99", "MetricStat": {"Metric": {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency",
                                                "Dimensions": _dimensions("green")}, "Period": 1, "Stat": "p99"}},
        {"Id": "nobody", "MetricStat": {"Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
                                                   "Dimensions": []}, "Period": 60, "Stat": "Average"}}], **window)
    results = {r["Id"] + str(n): r for n, r in enumerate(data["MetricDataResults"])}
    assert [r["Values"] for r in data["MetricDataResults"][:2]] == [[8.0], [8.0]]
    assert all(value > 0 for value in results["p992"]["Values"])
    assert results["p992"]["Timestamps"] == sorted(results["p992"]["Timestamps"], reverse=True)
    assert results["nobody3"]["Values"] == [] and results["nobody3"]["StatusCode"] == "Complete"
    names = {(m["MetricName"], m["Dimensions"][1]["Value"]) for m in
             cloudwatch.list_metrics(Namespace="AWS/SageMaker")["Metrics"]}
    assert ("Invocation4XXErrors", "green") in names and len(names) == 10


def test_cloudwatch_refuses_what_it_would_refuse(endpoint) -> None:
    cloudwatch = client("cloudwatch", endpoint)
    now = time.time()
    with pytest.raises(cloudwatch.exceptions.InvalidParameterCombinationException, match="limit of 1440"):
        cloudwatch.get_metric_statistics(Namespace="AWS/SageMaker", MetricName="Invocations",
                                         Dimensions=_dimensions("blue"), StartTime=now - 86400 * 2, EndTime=now,
                                         Period=60, Statistics=["Sum"])
    with pytest.raises(cloudwatch.exceptions.InvalidParameterValueException, match="metric math"):
        cloudwatch.get_metric_data(MetricDataQueries=[{"Id": "e", "Expression": "SUM(METRICS())"}],
                                   StartTime=now - 60, EndTime=now)
    with pytest.raises(ClientError, match="not supported by imagekit's local endpoint"):
        cloudwatch.put_metric_data(Namespace="Custom", MetricData=[{"MetricName": "m", "Value": 1.0}])
    # Older botocore speaks CloudWatch's query protocol: it gets an XML error that says what to do.
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.server_address[1], timeout=10)
    connection.request("POST", "/", body="Action=GetMetricData&Version=2010-08-01",
                       headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    answer = connection.getresponse()
    body = answer.read().decode()
    connection.close()
    assert answer.status == 400 and "<Code>InvalidAction</Code>" in body and "upgrade boto3" in body
